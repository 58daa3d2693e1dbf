{#-
    Engine-specific SQL lives here and nowhere else. Every macro dispatches through
    `adapter.dispatch`, so another engine (Spark) adds `<engine>__<macro>` beside the DuckDB one
    and the models stay unchanged.
-#}

{#- The text value of a top-level key of a JSON object (null when absent or JSON null). -#}
{% macro gw_json_text(json_column, key) -%}
    {{ return(adapter.dispatch('gw_json_text', 'group_warehouse')(json_column, key)) }}
{%- endmacro %}

{% macro default__gw_json_text(json_column, key) -%}
    json_extract_string({{ json_column }}, {{ gw_json_path_literal(key) }})
{%- endmacro %}

{#- A JSON path literal for a top-level key; the key is quoted so dots and quotes in property
    names never reach SQL unescaped. -#}
{% macro gw_json_path_literal(key) -%}
    '$."{{ key | replace("\\", "\\\\") | replace('"', '\\"') | replace("'", "''") }}"'
{%- endmacro %}

{#- A text as an SQL string literal (quotes doubled). -#}
{% macro gw_string_literal(value) -%}
    {{ return(adapter.dispatch('gw_string_literal', 'group_warehouse')(value)) }}
{%- endmacro %}

{% macro default__gw_string_literal(value) -%}
    '{{ value | string | replace("'", "''") }}'
{%- endmacro %}

{#- Make the sources readable where the adapter has no `external_location` (an on-run-start hook;
    DuckDB reads the sources' external locations and needs nothing). -#}
{% macro gw_register_sources() -%}
    {{ return(adapter.dispatch('gw_register_sources', 'group_warehouse')()) }}
{%- endmacro %}

{% macro default__gw_register_sources() -%}
{%- endmacro %}

{#- A UTC timestamp as wall-clock time in an IANA time zone (a column or a literal). -#}
{% macro gw_to_local_timestamp(utc_timestamp, timezone) -%}
    {{ return(adapter.dispatch('gw_to_local_timestamp', 'group_warehouse')(utc_timestamp, timezone)) }}
{%- endmacro %}

{% macro default__gw_to_local_timestamp(utc_timestamp, timezone) -%}
    timezone({{ timezone }}, {{ utc_timestamp }} at time zone 'UTC')
{%- endmacro %}

{#- One row per day from `start_date` to `end_date` inclusive, in a column named `date_day`. -#}
{% macro gw_date_series(start_date, end_date) -%}
    {{ return(adapter.dispatch('gw_date_series', 'group_warehouse')(start_date, end_date)) }}
{%- endmacro %}

{% macro default__gw_date_series(start_date, end_date) -%}
    (
        select cast(series.generate_series as date) as date_day
        from generate_series(
            cast({{ start_date }} as timestamp),
            cast({{ end_date }} as timestamp),
            interval 1 day
        ) as series
    )
{%- endmacro %}

{#- The landed Parquet lake as a relation (Hive partitions become columns). -#}
{% macro gw_lake_relation(dataset) -%}
    {{ return(adapter.dispatch('gw_lake_relation', 'group_warehouse')(dataset)) }}
{%- endmacro %}

{% macro default__gw_lake_relation(dataset) -%}
    read_parquet('{{ env_var("WAREHOUSE_HOME", "../warehouse") }}/lake/{{ dataset }}/**/*.parquet', hive_partitioning = true, union_by_name = true)
{%- endmacro %}

{#- The members of a JSON object as a lateral table, for a `from` clause:
    `from events cross join {{ gw_json_each('events.groups') }} as entry`. Each row has `entry.key`
    (the member name), `entry.value` (the member value as JSON text; JSON null is 'null') and
    `entry.id` (increasing in document order). Repeated member names give one row each, so
    callers decide which occurrence wins. -#}
{% macro gw_json_each(json_column) -%}
    {{ return(adapter.dispatch('gw_json_each', 'group_warehouse')(json_column)) }}
{%- endmacro %}

{% macro default__gw_json_each(json_column) -%}
    json_each({{ json_column }})
{%- endmacro %}

{#- A JSON value (text) as a group key or distinct id, the rule the loader applies when it lands
    non-string keys (docs/contracts.md): strings as they are, integers in decimal, integral
    floats without a fraction (5.0 → '5', as JavaScript prints it), booleans 'true'/'false',
    JSON null → null (no group), anything else (other numbers, objects, arrays) as its JSON text. -#}
{% macro gw_json_value_as_key(json_value) -%}
    {{ return(adapter.dispatch('gw_json_value_as_key', 'group_warehouse')(json_value)) }}
{%- endmacro %}

{% macro default__gw_json_value_as_key(json_value) -%}
    case json_type(cast({{ json_value }} as json))
        when 'VARCHAR' then json_extract_string(cast({{ json_value }} as json), '$')
        when 'NULL' then null
        when 'DOUBLE' then
            case
                when
                    cast(cast({{ json_value }} as json) as double)
                    = floor(cast(cast({{ json_value }} as json) as double))
                    and abs(cast(cast({{ json_value }} as json) as double)) < 9223372036854775808.0
                    then cast(cast(cast(cast({{ json_value }} as json) as double) as hugeint) as varchar)
                else cast({{ json_value }} as varchar)
            end
        else cast({{ json_value }} as varchar)
    end
{%- endmacro %}

{#- A text value as a JSON string literal (quoted and escaped). -#}
{% macro gw_json_quote(text_value) -%}
    {{ return(adapter.dispatch('gw_json_quote', 'group_warehouse')(text_value)) }}
{%- endmacro %}

{% macro default__gw_json_quote(text_value) -%}
    cast(to_json(cast({{ text_value }} as varchar)) as varchar)
{%- endmacro %}

{#- Aggregate (key, JSON value text) pairs into one JSON object text with its members sorted by
    key, so that the same content always gives the same text. '{}' when there are no rows. -#}
{% macro gw_json_object_agg(key_column, json_value_column) -%}
    {{ return(adapter.dispatch('gw_json_object_agg', 'group_warehouse')(key_column, json_value_column)) }}
{%- endmacro %}

{% macro default__gw_json_object_agg(key_column, json_value_column) -%}
    coalesce(
        '{' || string_agg(
            {{ gw_json_quote(key_column) }} || ':' || cast({{ json_value_column }} as varchar),
            ',' order by {{ key_column }}
        ) || '}',
        '{}'
    )
{%- endmacro %}

{#- RFC 7386 merge patch: `patch` members overwrite `target`'s, members patched to null are removed. -#}
{% macro gw_json_merge_patch(target_json, patch_json) -%}
    {{ return(adapter.dispatch('gw_json_merge_patch', 'group_warehouse')(target_json, patch_json)) }}
{%- endmacro %}

{% macro default__gw_json_merge_patch(target_json, patch_json) -%}
    cast(json_merge_patch({{ target_json }}, {{ patch_json }}) as varchar)
{%- endmacro %}

{#- Whether a JSON object has a top-level member `key` (a literal), even when its value is null. -#}
{% macro gw_json_has_key(json_column, key) -%}
    {{ return(adapter.dispatch('gw_json_has_key', 'group_warehouse')(json_column, key)) }}
{%- endmacro %}

{% macro default__gw_json_has_key(json_column, key) -%}
    coalesce(json_exists({{ json_column }}, {{ gw_json_path_literal(key) }}), false)
{%- endmacro %}

{#- The value of `value_column` on the row with the largest `order_column` in the group (an
    aggregate). Rows whose value is null are skipped: coalesce first when null must win. -#}
{% macro gw_arg_max(value_column, order_column) -%}
    {{ return(adapter.dispatch('gw_arg_max', 'group_warehouse')(value_column, order_column)) }}
{%- endmacro %}

{% macro default__gw_arg_max(value_column, order_column) -%}
    arg_max({{ value_column }}, {{ order_column }})
{%- endmacro %}

{#- A deterministic uuid-shaped id (8-4-4-4-12 hex) from the md5 of a text. -#}
{% macro gw_md5_uuid(text_value) -%}
    {{ return(adapter.dispatch('gw_md5_uuid', 'group_warehouse')(text_value)) }}
{%- endmacro %}

{% macro default__gw_md5_uuid(text_value) -%}
    (
        substr(md5({{ text_value }}), 1, 8) || '-'
        || substr(md5({{ text_value }}), 9, 4) || '-'
        || substr(md5({{ text_value }}), 13, 4) || '-'
        || substr(md5({{ text_value }}), 17, 4) || '-'
        || substr(md5({{ text_value }}), 21, 12)
    )
{%- endmacro %}

{#- The lines of a text column as rows, in a select list: `{{ gw_text_lines('content') }} as line`. -#}
{% macro gw_text_lines(text_column) -%}
    {{ return(adapter.dispatch('gw_text_lines', 'group_warehouse')(text_column)) }}
{%- endmacro %}

{% macro default__gw_text_lines(text_column) -%}
    unnest(string_split(replace({{ text_column }}, chr(13), ''), chr(10)))
{%- endmacro %}

{#- Connected components of an undirected graph, as a query over two relations (CTE names):
    `nodes_relation(project_id, node_id)` and `edges_relation(project_id, from_node_id,
    to_node_id)` (one row per edge; both directions are used). Returns
    `(project_id, node_id, component_id)` where `component_id` is the smallest node id of the
    node's component (byte order). Label propagation in a recursive CTE: every round a node
    takes the smallest label of its neighbours when that is smaller than its own; it stops when
    no label shrinks (at most the component's diameter rounds). Chains, cycles and merges that
    arrive late all end in the same labels. -#}
{% macro gw_connected_components(nodes_relation, edges_relation) -%}
    {{ return(adapter.dispatch('gw_connected_components', 'group_warehouse')(nodes_relation, edges_relation)) }}
{%- endmacro %}

{% macro default__gw_connected_components(nodes_relation, edges_relation) -%}
    with recursive

    undirected_edges as (

        select
            project_id,
            from_node_id,
            to_node_id
        from {{ edges_relation }}
        union
        select
            project_id,
            to_node_id as from_node_id,
            from_node_id as to_node_id
        from {{ edges_relation }}

    ),

    propagated (project_id, node_id, component_id) as (

        select
            project_id,
            node_id,
            node_id as component_id
        from {{ nodes_relation }}

        union

        select
            undirected_edges.project_id,
            undirected_edges.to_node_id as node_id,
            min(propagated.component_id) as component_id
        from propagated
        inner join undirected_edges
            on
                propagated.project_id = undirected_edges.project_id
                and propagated.node_id = undirected_edges.from_node_id
        where propagated.component_id < undirected_edges.to_node_id
        group by undirected_edges.project_id, undirected_edges.to_node_id

    )

    select
        project_id,
        node_id,
        min(component_id) as component_id
    from propagated
    group by project_id, node_id
{%- endmacro %}

{#- ---- Insights (macros/insights/) ------------------------------------------------------------ -#}

{#- A wall-clock timestamp of an IANA time zone (naive) as the UTC instant (naive). For a time
    that a DST change skips or repeats the engine picks one side; insights only convert period
    starts (midnights, hour starts), which never fall there in zones with whole-hour changes. -#}
{% macro gw_local_to_utc(local_timestamp, timezone) -%}
    {{ return(adapter.dispatch('gw_local_to_utc', 'group_warehouse')(local_timestamp, timezone)) }}
{%- endmacro %}

{% macro default__gw_local_to_utc(local_timestamp, timezone) -%}
    timezone('UTC', timezone({{ timezone }}, cast({{ local_timestamp }} as timestamp)))
{%- endmacro %}

{#- Whether a text matches a regular expression anywhere (RE2 syntax, as ClickHouse's `match`);
    null when the text is null. -#}
{% macro gw_regex_match(text_value, pattern) -%}
    {{ return(adapter.dispatch('gw_regex_match', 'group_warehouse')(text_value, pattern)) }}
{%- endmacro %}

{% macro default__gw_regex_match(text_value, pattern) -%}
    regexp_matches({{ text_value }}, {{ pattern }})
{%- endmacro %}

{#- A text as a double, null when it is not a number. -#}
{% macro gw_try_cast_double(text_value) -%}
    {{ return(adapter.dispatch('gw_try_cast_double', 'group_warehouse')(text_value)) }}
{%- endmacro %}

{% macro default__gw_try_cast_double(text_value) -%}
    try_cast({{ text_value }} as double)
{%- endmacro %}

{#- One row per integer from `start_value` to `end_value` inclusive, in a column named `n`. -#}
{% macro gw_integer_series(start_value, end_value) -%}
    {{ return(adapter.dispatch('gw_integer_series', 'group_warehouse')(start_value, end_value)) }}
{%- endmacro %}

{% macro default__gw_integer_series(start_value, end_value) -%}
    (
        select cast(series.generate_series as bigint) as n
        from generate_series(cast({{ start_value }} as bigint), cast({{ end_value }} as bigint)) as series
    )
{%- endmacro %}

{#- ---- Funnels (macros/insights/funnels.sql) ------------------------------------------------- -#}

{#- A timestamp as whole microseconds since the Unix epoch (bigint): funnels order, frame and
    compare event times as integers so that window frames (`range between 1 following …`) mean
    "strictly later" on every engine. -#}
{% macro gw_epoch_microseconds(timestamp_value) -%}
    {{ return(adapter.dispatch('gw_epoch_microseconds', 'group_warehouse')(timestamp_value)) }}
{%- endmacro %}

{% macro default__gw_epoch_microseconds(timestamp_value) -%}
    epoch_us({{ timestamp_value }})
{%- endmacro %}

{#- Microseconds since the Unix epoch back to a (naive, UTC) timestamp. -#}
{% macro gw_timestamp_from_epoch_microseconds(microseconds) -%}
    {{ return(adapter.dispatch('gw_timestamp_from_epoch_microseconds', 'group_warehouse')(microseconds)) }}
{%- endmacro %}

{% macro default__gw_timestamp_from_epoch_microseconds(microseconds) -%}
    make_timestamp({{ microseconds }})
{%- endmacro %}

{#- Seconds (double, microsecond precision) from one timestamp to a later one. -#}
{% macro gw_seconds_between(start_timestamp, end_timestamp) -%}
    {{ return(adapter.dispatch('gw_seconds_between', 'group_warehouse')(start_timestamp, end_timestamp)) }}
{%- endmacro %}

{% macro default__gw_seconds_between(start_timestamp, end_timestamp) -%}
    (({{ gw_epoch_microseconds(end_timestamp) }} - {{ gw_epoch_microseconds(start_timestamp) }}) / 1000000.0)
{%- endmacro %}

{#- An array (list) value from SQL expressions, in order. -#}
{% macro gw_array(items) -%}
    {{ return(adapter.dispatch('gw_array', 'group_warehouse')(items)) }}
{%- endmacro %}

{% macro default__gw_array(items) -%}
    list_value({{ items | join(', ') }})
{%- endmacro %}

{#- The value of `value_column` on the row with the smallest `order_column` in the group (an
    aggregate; rows whose value is null are skipped). The counterpart of gw_arg_max. -#}
{% macro gw_arg_min(value_column, order_column) -%}
    {{ return(adapter.dispatch('gw_arg_min', 'group_warehouse')(value_column, order_column)) }}
{%- endmacro %}

{% macro default__gw_arg_min(value_column, order_column) -%}
    arg_min({{ value_column }}, {{ order_column }})
{%- endmacro %}

{#- A composite ordering key from SQL expressions, compared left to right (for gw_arg_min /
    gw_arg_max over several columns). -#}
{% macro gw_ordering_key(items) -%}
    {{ return(adapter.dispatch('gw_ordering_key', 'group_warehouse')(items)) }}
{%- endmacro %}

{% macro default__gw_ordering_key(items) -%}
    row({{ items | join(', ') }})
{%- endmacro %}

{#- The element at a 1-based position of an array; null past its end. -#}
{% macro gw_array_element(array_value, position) -%}
    {{ return(adapter.dispatch('gw_array_element', 'group_warehouse')(array_value, position)) }}
{%- endmacro %}

{% macro default__gw_array_element(array_value, position) -%}
    list_extract({{ array_value }}, {{ position }})
{%- endmacro %}

{#- The SQL type of an array of timestamps (for casts and contracts). -#}
{% macro gw_type_timestamp_array() -%}
    {{ return(adapter.dispatch('gw_type_timestamp_array', 'group_warehouse')()) }}
{%- endmacro %}

{% macro default__gw_type_timestamp_array() -%}
    timestamp[]
{%- endmacro %}

{#- The exact median of a numeric column (an aggregate; the mean of the two middle values when
    their number is even — what PostHog's ClickHouse `median` gives, exactly up to 8192 values). -#}
{% macro gw_median(numeric_value) -%}
    {{ return(adapter.dispatch('gw_median', 'group_warehouse')(numeric_value)) }}
{%- endmacro %}

{% macro default__gw_median(numeric_value) -%}
    quantile_cont({{ numeric_value }}, 0.5)
{%- endmacro %}
