#!/bin/sh
# The reference pipeline of the bench's cold figures (issue 9): what a shell user would do with
# curl, sha256sum, unzip and DuckDB. Downloads each monthly zip and its CHECKSUM (8 at a time),
# verifies it, unzips it, then one DuckDB process writes every month as ZSTD Parquet and the whole
# range as one CSV.
#   reference-pipeline.sh <base-url> <work-dir> <out.csv> <zip-path>...
set -eu
base=$1 work=$2 out=$3
shift 3
mkdir -p "$work"
cd "$work"
printf '%s\n' "$@" | xargs -P 8 -I{} sh -c '
  name=$(basename "{}")
  curl -sf -o "$name" "$0{}" && curl -sf -o "$name.CHECKSUM" "$0{}.CHECKSUM"
  sha256sum -c --quiet "$name.CHECKSUM"
  unzip -qo "$name" && rm "$name"
' "$base"
columns="{'open_time':'BIGINT','open':'DOUBLE','high':'DOUBLE','low':'DOUBLE','close':'DOUBLE','volume':'DOUBLE','close_time':'BIGINT','quote_volume':'DOUBLE','trades':'BIGINT','taker_buy_volume':'DOUBLE','taker_buy_quote_volume':'DOUBLE','ignore':'VARCHAR'}"
"$NODE" "$DUCKDB_RUN" \
  "CREATE TABLE k AS SELECT * EXCLUDE (ignore) FROM read_csv('*.csv', header=false, columns=$columns)" \
  "COPY k TO 'parquet' (FORMAT parquet, COMPRESSION zstd, PER_THREAD_OUTPUT true)" \
  "COPY (SELECT * FROM k ORDER BY open_time) TO '$out' (HEADER, DELIMITER ',')"
