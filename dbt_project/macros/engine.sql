{#-
    Engine-specific SQL lives here and nowhere else. Every macro dispatches through
    `adapter.dispatch`, so another engine (Spark) adds `<engine>__<macro>` beside the DuckDB one
    and the models stay unchanged.
-#}

{#- Rows of `entry` structs (`entry.key`, `entry.value`) from a JSON object column; use in a
    select list: `{{ gw_json_object_entries('groups') }} as entry`. Values as text (`text`) or
    as JSON (`json`, keeps nested objects and distinguishes null). -#}
{% macro gw_json_object_entries(json_column, value_type='text') -%}
    {{ return(adapter.dispatch('gw_json_object_entries', 'group_warehouse')(json_column, value_type)) }}
{%- endmacro %}

{% macro default__gw_json_object_entries(json_column, value_type) -%}
    unnest(map_entries(json_transform({{ json_column }}, '"MAP(VARCHAR, {{ "JSON" if value_type == "json" else "VARCHAR" }})"')))
{%- endmacro %}

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

{#- Aggregate (key, json value) pairs into one JSON object. -#}
{% macro gw_json_object_agg(key_column, json_value_column) -%}
    {{ return(adapter.dispatch('gw_json_object_agg', 'group_warehouse')(key_column, json_value_column)) }}
{%- endmacro %}

{% macro default__gw_json_object_agg(key_column, json_value_column) -%}
    coalesce(json_group_object({{ key_column }}, {{ json_value_column }}), '{}')::varchar
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
