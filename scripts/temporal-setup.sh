#!/bin/sh
# Sets up a Temporal cluster on PostgreSQL for Ferry; run by docker-compose.yml's one-shot jobs (in the
# temporalio/admin-tools image) and by scripts/production.sh, so both do exactly the same. POSIX sh. Repeatable.
#   temporal-setup.sh schema     creates the `temporal` and `temporal_visibility` databases and brings their schemas
#                                to the server's version (existing databases and applied versions are kept)
#   temporal-setup.sh namespace  creates the namespace with its retention (or sets the retention of an existing one)
#                                and registers Ferry's search attributes (as `search-attributes` does)
#   temporal-setup.sh search-attributes   registers Ferry's search attributes that the namespace lacks
# Env: schema: POSTGRES_SEEDS, DB_PORT, POSTGRES_USER, SQL_PASSWORD, DB (plugin); TEMPORAL_SQL_TOOL (default
#      temporal-sql-tool), TEMPORAL_SCHEMA_ROOT (default /etc/temporal/schema), TEMPORAL_SCHEMA_DIR (postgresql/v12).
#      namespace: TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_RETENTION, FERRY_SEARCH_ATTRIBUTES ("Name=Type,...");
#      TEMPORAL_CLI (default temporal).
set -eu

case "${1:-}" in
  schema)
    tool="${TEMPORAL_SQL_TOOL:-temporal-sql-tool} --plugin ${DB:-postgres12} --ep ${POSTGRES_SEEDS} -u ${POSTGRES_USER} -p ${DB_PORT:-5432}"
    schema=${TEMPORAL_SCHEMA_ROOT:-/etc/temporal/schema}/${TEMPORAL_SCHEMA_DIR:-postgresql/v12}
    for db in temporal temporal_visibility; do
      $tool --db $db create || true
      $tool --db $db setup-schema -v 0.0 || true
    done
    $tool --db temporal update-schema -d "$schema/temporal/versioned"
    $tool --db temporal_visibility update-schema -d "$schema/visibility/versioned"
    echo "Temporal schemas are up to date"
    ;;
  namespace)
    cli=${TEMPORAL_CLI:-temporal}
    ns=${TEMPORAL_NAMESPACE:-default}
    retention=${TEMPORAL_RETENTION:-30d}
    if $cli operator namespace describe -n "$ns" >/dev/null 2>&1; then
      $cli operator namespace update -n "$ns" --retention "$retention" >/dev/null
    else
      $cli operator namespace create -n "$ns" --retention "$retention"
    fi
    sh "$0" search-attributes
    echo "namespace $ns is ready (retention $retention)"
    ;;
  search-attributes)
    cli=${TEMPORAL_CLI:-temporal}
    ns=${TEMPORAL_NAMESPACE:-default}
    # A new namespace reaches the frontend's cache within seconds.
    tries=0
    until $cli operator search-attribute list -n "$ns" >/dev/null 2>&1; do
      tries=$((tries + 1)); [ $tries -le 60 ] || { echo "namespace $ns is not served after 60 s" >&2; exit 1; }; sleep 1
    done
    for pair in $(echo "${FERRY_SEARCH_ATTRIBUTES:-}" | tr ',' ' '); do
      name=${pair%%=*}
      if ! $cli operator search-attribute list -n "$ns" | grep -qw "$name"; then
        $cli operator search-attribute create -n "$ns" --name "$name" --type "${pair#*=}"
      fi
    done
    echo "search attributes of $ns: ${FERRY_SEARCH_ATTRIBUTES:-none}"
    ;;
  *) echo "usage: $0 schema|namespace|search-attributes" >&2; exit 2 ;;
esac
