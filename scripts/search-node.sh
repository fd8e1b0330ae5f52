#!/usr/bin/env bash
# Usage: scripts/search-node.sh [PORT] [HOME]
# Runs a single-node OpenSearch 2.19.6 (Maven Central jars, our launcher in indexing/engine_node/) on
# 127.0.0.1:PORT (default 9200) in the foreground; Ctrl-C or SIGTERM stops it. HOME (default var/search-node)
# keeps its data. The launcher is built by Maven on first use; an AppCDS archive of the JVM's classes is made
# once (in ~/.cache/bunryu) and makes every later start ~4x faster.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
port=${1:-9200}
home=${2:-$root/var/search-node}
node_dir=$root/indexing/engine_node
jar=$node_dir/target/engine-node.jar

if [ ! -f "$jar" ] || [ "$node_dir/pom.xml" -nt "$jar" ] || [ -n "$(find "$node_dir/src" -newer "$jar" -print -quit)" ]; then
  echo "search node: building the launcher with Maven (first time: resolves ~57 MB of jars)" >&2
  mvn -B -q -f "$node_dir/pom.xml" package >&2
fi
classpath="$jar:$(cat "$node_dir/target/classpath.txt")"
java_flags=(-Xms256m -Xmx512m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xss1m
  -Dopensearch.set.netty.runtime.available.processors=false -Dio.netty.allocator.numDirectArenas=0
  -Dlog4j2.disable.jmx=true -Djava.awt.headless=true -Dfile.encoding=UTF-8)
cache=${XDG_CACHE_HOME:-$HOME/.cache}/bunryu
key=$( { java -version 2>&1; echo "$classpath"; sha1sum "$jar"; } | sha1sum | cut -c1-12)
archive=$cache/engine-node-$key.jsa
mkdir -p "$cache" "$home"
if [ ! -f "$archive" ]; then
  # The JVM writes the archive when it exits normally: start a throw-away node once, then exit.
  echo "search node: making the class-data archive $archive (once)" >&2
  warm=$(mktemp -d /tmp/bunryu-search-warm.XXXXXX)
  java "${java_flags[@]}" -XX:ArchiveClassesAtExit="$archive.tmp" -cp "$classpath" bunryu.engine.EngineNode \
    "$warm" 0 --exit-when-started >"$warm.log" 2>&1 || { cat "$warm.log" >&2; rm -rf "$warm" "$warm.log"; exit 1; }
  mv "$archive.tmp" "$archive"
  rm -rf "$warm" "$warm.log"
fi
exec java "${java_flags[@]}" -XX:SharedArchiveFile="$archive" -Xshare:auto -cp "$classpath" \
  bunryu.engine.EngineNode "$home" "$port"
