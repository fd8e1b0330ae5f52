package bunryu.engine;

import java.util.Locale;
import java.util.Map;

import org.apache.lucene.analysis.TokenStream;
import org.apache.lucene.analysis.ko.KoreanPartOfSpeechStopFilter;
import org.apache.lucene.analysis.ko.KoreanTokenizer;
import org.opensearch.index.analysis.TokenFilterFactory;
import org.opensearch.index.analysis.TokenizerFactory;
import org.opensearch.indices.analysis.AnalysisModule.AnalysisProvider;
import org.opensearch.plugins.AnalysisPlugin;
import org.opensearch.plugins.Plugin;

/**
 * Korean morphological analysis (Lucene's nori, lucene-analysis-nori from Maven Central) for the node: the
 * tokenizer {@code nori_tokenizer} (setting {@code decompound_mode}: none, discard or mixed; default discard)
 * and the filter {@code nori_part_of_speech} (drops particles, endings and other parts of speech a search
 * does not want: Lucene's default stop tags). OpenSearch's own analysis-nori plugin is not published as a jar.
 */
public final class NoriAnalysisPlugin extends Plugin implements AnalysisPlugin {

    @Override
    public Map<String, AnalysisProvider<TokenizerFactory>> getTokenizers() {
        return Map.of("nori_tokenizer", (indexSettings, environment, name, settings) -> {
            KoreanTokenizer.DecompoundMode mode = KoreanTokenizer.DecompoundMode.valueOf(
                settings.get("decompound_mode", "discard").toUpperCase(Locale.ROOT));
            return TokenizerFactory.newFactory(name, () -> new KoreanTokenizer(
                TokenStream.DEFAULT_TOKEN_ATTRIBUTE_FACTORY, null, mode, false));
        });
    }

    @Override
    public Map<String, AnalysisProvider<TokenFilterFactory>> getTokenFilters() {
        return Map.of("nori_part_of_speech", (indexSettings, environment, name, settings) -> new TokenFilterFactory() {
            @Override
            public String name() {
                return name;
            }

            @Override
            public TokenStream create(TokenStream input) {
                return new KoreanPartOfSpeechStopFilter(input);
            }
        });
    }
}
