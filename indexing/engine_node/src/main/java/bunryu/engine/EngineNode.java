package bunryu.engine;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;

import org.opensearch.common.logging.LogConfigurator;
import org.opensearch.common.settings.Settings;
import org.opensearch.env.Environment;
import org.opensearch.node.InternalSettingsPreparer;
import org.opensearch.node.Node;
import org.opensearch.plugins.Plugin;

/**
 * A single OpenSearch node on 127.0.0.1 for development and tests, started from Maven Central jars.
 *
 * <p>Usage: {@code java -cp ... bunryu.engine.EngineNode HOME HTTP_PORT [--exit-when-started]}. HOME holds
 * config/, data/ and logs/. With --exit-when-started the node starts, answers once and exits cleanly: the run
 * that writes the AppCDS archive (the JVM dumps it at a normal exit).
 */
public final class EngineNode extends Node {

    private static final List<Class<? extends Plugin>> PLUGINS = List.of(
        org.opensearch.transport.Netty4Plugin.class,
        org.opensearch.analysis.common.CommonAnalysisPlugin.class,
        org.opensearch.painless.PainlessPlugin.class,
        org.opensearch.index.mapper.MapperExtrasPlugin.class,
        org.opensearch.index.reindex.ReindexPlugin.class,
        org.opensearch.join.ParentJoinPlugin.class,
        org.opensearch.percolator.PercolatorPlugin.class,
        org.opensearch.search.aggregations.matrix.MatrixAggregationPlugin.class,
        NoriAnalysisPlugin.class);

    private EngineNode(Environment environment, Collection<Class<? extends Plugin>> plugins) {
        super(environment, plugins, true);
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 2) {
            System.err.println("usage: EngineNode HOME HTTP_PORT [--exit-when-started]");
            System.exit(2);
        }
        Path home = Path.of(args[0]).toAbsolutePath();
        String httpPort = args[1];
        boolean exitWhenStarted = args.length > 2 && args[2].equals("--exit-when-started");
        Path config = home.resolve("config");
        Files.createDirectories(config);
        Files.writeString(config.resolve("log4j2.properties"), String.join("\n",
            "status = error",
            "appender.console.type = Console",
            "appender.console.name = console",
            "appender.console.layout.type = PatternLayout",
            "appender.console.layout.pattern = [%d{ISO8601}][%-5p][%c{1.}] %m%n",
            "rootLogger.level = warn",
            "rootLogger.appenderRef.console.ref = console",
            "logger.node.name = org.opensearch.node.Node",
            "logger.node.level = info",
            ""));

        Settings settings = Settings.builder()
            .put("cluster.name", "bunryu-dev")
            .put("node.name", "bunryu-node")
            .put("path.home", home.toString())
            .put("path.data", home.resolve("data").toString())
            .put("path.logs", home.resolve("logs").toString())
            .put("network.host", "127.0.0.1")
            .put("http.port", httpPort)
            .put("transport.port", "0")
            .put("discovery.type", "single-node")
            .put("bootstrap.memory_lock", false)
            .put("cluster.routing.allocation.disk.threshold_enabled", false)
            .put("action.auto_create_index", false)
            .put("node.processors", 2)
            .build();
        Environment environment = InternalSettingsPreparer.prepareEnvironment(settings, Map.of(), config, () -> "bunryu-node");
        LogConfigurator.registerErrorListener();
        LogConfigurator.configure(environment);

        EngineNode node = new EngineNode(environment, PLUGINS);
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                node.close();
            } catch (Exception e) {
                e.printStackTrace();
            } finally {
                stopped.countDown();
            }
        }, "engine-node-shutdown"));
        node.start();
        System.out.println("engine node: http://127.0.0.1:" + httpPort + " (home " + home + ")");
        if (exitWhenStarted) {
            System.exit(0);  // the shutdown hook closes the node; the JVM then writes the CDS archive
        }
        stopped.await();  // node threads are daemons: main keeps the JVM alive until a signal stops it
    }
}
