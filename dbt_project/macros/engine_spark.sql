{#-
    Apache Spark (dbt-spark, Spark 4) implementations of the dispatched macros of engine.sql, side
    by side with the DuckDB ones (`default__…` there). Models never call these directly.

    Spark settings these rely on (profiles.yml, target `spark`): session time zone UTC (timestamps
    are naive UTC everywhere, as on DuckDB), `spark.sql.variant.allowDuplicateKeys` (a JSON object
    that repeats a member parses, the last occurrence wins, as JSON parsers keep it) and
    `spark.sql.mapKeyDedupPolicy=LAST_WIN`.

    JSON text: Spark has no JSON type; JSON stays text and is read through `get_json_object`,
    `json_object_keys` (members in document order) and VARIANT (`parse_json`, `variant_get`,
    `to_json`). VARIANT re-serialises numbers in a canonical form (`5.0` → `5`, `1e3` → `1000.0`):
    JSON built from parsed values (folded properties) is the same JSON as DuckDB's, not always the
    same text (docs: README "Scale-out: Spark").
-#}

{#- A text as a Spark string literal: Spark reads backslash escapes and concatenates adjacent
    literals ('a''b' is 'ab'), so quotes and backslashes are escaped with a backslash. -#}
{% macro spark__gw_string_literal(value) -%}
    '{{ value | string | replace("\\", "\\\\") | replace("'", "\\'") }}'
{%- endmacro %}

{#- `$['key']` as a Spark JSON path literal (get_json_object / variant_get). -#}
{% macro spark__gw_json_path_literal(key) -%}
    {{ spark__gw_string_literal("$['" ~ key ~ "']") }}
{%- endmacro %}

{% macro spark__gw_json_text(json_column, key) -%}
    get_json_object({{ json_column }}, {{ spark__gw_json_path_literal(key) }})
{%- endmacro %}

{% macro spark__gw_to_local_timestamp(utc_timestamp, timezone) -%}
    from_utc_timestamp(cast({{ utc_timestamp }} as timestamp), {{ timezone }})
{%- endmacro %}

{% macro spark__gw_local_to_utc(local_timestamp, timezone) -%}
    to_utc_timestamp(cast({{ local_timestamp }} as timestamp), {{ timezone }})
{%- endmacro %}

{#- sequence() counts down when start > end; generate_series gives no rows then. -#}
{% macro spark__gw_date_series(start_date, end_date) -%}
    (
        select explode(
            case
                when cast({{ start_date }} as date) <= cast({{ end_date }} as date)
                    then sequence(cast({{ start_date }} as date), cast({{ end_date }} as date), interval 1 day)
                else array()
            end
        ) as date_day
    )
{%- endmacro %}

{% macro spark__gw_integer_series(start_value, end_value) -%}
    (
        select explode(
            case
                when cast({{ start_value }} as bigint) <= cast({{ end_value }} as bigint)
                    then sequence(cast({{ start_value }} as bigint), cast({{ end_value }} as bigint))
                else array()
            end
        ) as n
    )
{%- endmacro %}

{#- The lake's root: `GW_LAKE_URI` (any path Spark's Hadoop filesystems read: s3a://, abfss://,
    gs://, hdfs://) or `$WAREHOUSE_HOME/lake`. -#}
{% macro gw_lake_uri() -%}
    {{- env_var('GW_LAKE_URI', env_var('WAREHOUSE_HOME', '../warehouse') ~ '/lake') -}}
{%- endmacro %}

{% macro spark__gw_lake_relation(dataset) -%}
    parquet.`{{ gw_lake_uri() }}/{{ dataset }}`
{%- endmacro %}

{#- Members of a JSON object in document order (json_object_keys), values as JSON text (VARIANT).
    A member repeated in the object gives one row per occurrence, each with the last value and
    the position of its first occurrence, which is what every caller keeps (last value wins, first
    position). Used as `cross join {{ gw_json_each('t.c') }} as entry`. -#}
{% macro spark__gw_json_each(json_column) -%}
    lateral (
        select
            member.key,
            to_json(member.value) as value,
            array_position(json_object_keys({{ json_column }}), member.key) as id
        from variant_explode(parse_json({{ json_column }})) as member
    )
{%- endmacro %}

{#- JSON text (of any JSON value) as a group key or distinct id: the rule of the DuckDB macro. -#}
{% macro spark__gw_json_value_as_key(json_value) -%}
    case
        when {{ json_value }} is null then null
        when schema_of_variant(parse_json({{ json_value }})) = 'STRING'
            then variant_get(parse_json({{ json_value }}), '$', 'string')
        when schema_of_variant(parse_json({{ json_value }})) = 'VOID' then null
        when
            (
                schema_of_variant(parse_json({{ json_value }})) in ('DOUBLE', 'FLOAT')
                or schema_of_variant(parse_json({{ json_value }})) like 'DECIMAL%'
            )
            and variant_get(parse_json({{ json_value }}), '$', 'double')
            = floor(variant_get(parse_json({{ json_value }}), '$', 'double'))
            and abs(variant_get(parse_json({{ json_value }}), '$', 'double')) < 9223372036854775808.0
            then cast(cast(variant_get(parse_json({{ json_value }}), '$', 'double') as decimal(38, 0)) as string)
        else cast({{ json_value }} as string)
    end
{%- endmacro %}

{#- `{"v":"…"}` minus its first five and last characters is the quoted, escaped string. -#}
{% macro spark__gw_json_quote(text_value) -%}
    case
        when {{ text_value }} is not null
            then substring(
                to_json(named_struct('v', cast({{ text_value }} as string))),
                6,
                length(to_json(named_struct('v', cast({{ text_value }} as string)))) - 6
            )
    end
{%- endmacro %}

{% macro spark__gw_json_object_agg(key_column, json_value_column) -%}
    coalesce(
        '{' || array_join(
            transform(
                array_sort(collect_list(named_struct(
                    'member_key', cast({{ key_column }} as string),
                    'member_value', cast({{ json_value_column }} as string)
                ))),
                member -> {{ spark__gw_json_quote('member.member_key') }} || ':' || member.member_value
            ),
            ','
        ) || '}',
        '{}'
    )
{%- endmacro %}

{#- A JSON object text as a map of member → JSON text (a repeated member keeps its last value).
    `name` names the lambda variable (nested uses need distinct names). -#}
{% macro spark__gw_json_members_map(json_text, name='member_key') -%}
    map_from_arrays(
        coalesce(json_object_keys({{ json_text }}), array()),
        transform(
            coalesce(json_object_keys({{ json_text }}), array()),
            {{ name }} -> to_json(variant_get(
                parse_json({{ json_text }}),
                '$[\'' || replace({{ name }}, '\'', '\\\'') || '\']'
            ))
        )
    )
{%- endmacro %}

{#- RFC 7386 merge patch of two JSON object texts, `depth` levels deep (a patch member that is an
    object merges into the target's member; below `depth` it replaces it), with members in the
    order DuckDB's json_merge_patch (yyjson) writes them: the target's members the patch does not
    touch, then the patch's members in its order; members patched to null are removed. The project's patches are two levels deep
    (`{"$groups": {"company": null}}`). -#}
{% macro spark__gw_json_merge_patch(target_json, patch_json, depth=2) -%}
    {%- set level = depth | string -%}
    {%- set key = 'patched_key_' ~ level -%}
    {%- set target_map = spark__gw_json_members_map(target_json, 'target_key_' ~ level) -%}
    {%- set patch_map = spark__gw_json_members_map(patch_json, 'patch_key_' ~ level) -%}
    {%- set target_value = 'element_at(' ~ target_map ~ ', ' ~ key ~ ')' -%}
    {%- set patch_value = 'element_at(' ~ patch_map ~ ', ' ~ key ~ ')' -%}
    (
        '{' || array_join(
            transform(
                array_distinct(concat(
                    filter(
                        coalesce(json_object_keys({{ target_json }}), array()),
                        {{ key }}_kept -> not array_contains(
                            coalesce(json_object_keys({{ patch_json }}), array()), {{ key }}_kept
                        )
                    ),
                    coalesce(json_object_keys({{ patch_json }}), array())
                )),
                {{ key }} -> case
                    when not array_contains(coalesce(json_object_keys({{ patch_json }}), array()), {{ key }})
                        then {{ spark__gw_json_quote(key) }} || ':' || {{ target_value }}
                    when {{ patch_value }} = 'null' then null
                    {%- if depth > 1 %}
                    when substr({{ patch_value }}, 1, 1) = '{'
                        then {{ spark__gw_json_quote(key) }} || ':' || {{ spark__gw_json_merge_patch(
                            "case when substr(coalesce(" ~ target_value ~ ", ''), 1, 1) = '{' then " ~ target_value ~ " else '{}' end",
                            patch_value,
                            depth - 1
                        ) }}
                    {%- endif %}
                    else {{ spark__gw_json_quote(key) }} || ':' || {{ patch_value }}
                end
            ),
            ','
        ) || '}'
    )
{%- endmacro %}

{% macro spark__gw_json_has_key(json_column, key) -%}
    coalesce(array_contains(json_object_keys({{ json_column }}), {{ spark__gw_string_literal(key) }}), false)
{%- endmacro %}

{#- max_by/min_by take the value of the max/min ordering row even when that value is null;
    DuckDB's arg_max skips such rows, so the ordering is nulled for them. -#}
{% macro spark__gw_arg_max(value_column, order_column) -%}
    max_by({{ value_column }}, case when ({{ value_column }}) is not null then {{ order_column }} end)
{%- endmacro %}

{% macro spark__gw_arg_min(value_column, order_column) -%}
    min_by({{ value_column }}, case when ({{ value_column }}) is not null then {{ order_column }} end)
{%- endmacro %}

{% macro spark__gw_ordering_key(items) -%}
    struct({{ items | join(', ') }})
{%- endmacro %}

{% macro spark__gw_text_lines(text_column) -%}
    explode(split(replace({{ text_column }}, chr(13), ''), chr(10)))
{%- endmacro %}

{% macro spark__gw_regex_match(text_value, pattern) -%}
    regexp_like({{ text_value }}, {{ pattern }})
{%- endmacro %}

{% macro spark__gw_try_cast_double(text_value) -%}
    try_cast({{ text_value }} as double)
{%- endmacro %}

{% macro spark__gw_epoch_microseconds(timestamp_value) -%}
    unix_micros(cast({{ timestamp_value }} as timestamp))
{%- endmacro %}

{% macro spark__gw_timestamp_from_epoch_microseconds(microseconds) -%}
    timestamp_micros({{ microseconds }})
{%- endmacro %}

{% macro spark__gw_array(items) -%}
    array({{ items | join(', ') }})
{%- endmacro %}

{% macro spark__gw_array_element(array_value, position) -%}
    try_element_at({{ array_value }}, {{ position }})
{%- endmacro %}

{% macro spark__gw_type_timestamp_array() -%}
    array<timestamp>
{%- endmacro %}

{#- Exact median, interpolated between the two middle values (as DuckDB's quantile_cont). -#}
{% macro spark__gw_median(numeric_value) -%}
    percentile({{ numeric_value }}, 0.5)
{%- endmacro %}

{#- ---- Sources and contracts ------------------------------------------------------------------ -#}

{#- Spark has no `external_location` for sources (dbt-duckdb's): an on-run-start hook registers
    the lake datasets and the warehouse's request files as views in schemas `lake` and
    `warehouse`, so `source('lake', 'events')` reads the same Parquet files DuckDB reads. Partition
    columns (project_id, event_date) come from the Hive-style folder names. -#}
{% macro spark__gw_register_sources() -%}
    {%- if execute -%}
        {%- set home = env_var('WAREHOUSE_HOME', '../warehouse') -%}
        {%- do run_query('create schema if not exists lake') -%}
        {%- do run_query('create schema if not exists warehouse') -%}
        {%- for dataset in ['events', 'projects'] -%}
            {%- do run_query(
                'create or replace view lake.' ~ dataset ~ ' as select * from '
                ~ spark__gw_lake_relation(dataset)
            ) -%}
        {%- endfor -%}
        {#- The deletion requests are optional: a text table over their folder reads empty when
            the folder or the file is missing. -#}
        {%- do run_query(
            "create table if not exists warehouse.group_deletion_lines (value string) using text"
            ~ " location '" ~ home ~ "/deletions'"
        ) -%}
        {%- do run_query('refresh table warehouse.group_deletion_lines') -%}
        {%- do run_query(
            "create or replace view warehouse.group_deletions as"
            ~ " select _metadata.file_path as filename,"
            ~ " concat_ws(chr(10), collect_list(value)) as content,"
            ~ " cast(null as bigint) as size, cast(null as timestamp) as last_modified"
            ~ " from warehouse.group_deletion_lines"
            ~ " where _metadata.file_name = 'group_deletions.jsonl'"
            ~ " group by _metadata.file_path"
        ) -%}
    {%- endif -%}
{%- endmacro %}

{#- Contract and seed types are written once, in DuckDB's names (varchar, timestamp[]): Spark
    needs `string` and `array<timestamp>`. dbt's `cast` is dispatched in the `dbt` namespace, so
    this root-project override is what contracts' empty-schema query uses on Spark. -#}
{% macro gw_spark_type(type) -%}
    {%- set normalized = type | string | trim | lower -%}
    {%- if normalized in ('varchar', 'text') -%}
        string
    {%- elif normalized.endswith('[]') -%}
        array<{{ gw_spark_type(normalized[:-2]) }}>
    {%- else -%}
        {{ type }}
    {%- endif -%}
{%- endmacro %}

{% macro spark__cast(field, type) -%}
    cast({{ field }} as {{ gw_spark_type(type) }})
{%- endmacro %}

{#- Connected components on Spark. Spark's recursive CTEs allow no aggregate over the recursive
    reference, so the label propagation of the DuckDB macro is unrolled: every round a node takes
    the smallest label among itself and its neighbours (one join and one aggregate over the
    previous round). `var('gw_spark_component_rounds', 8)` rounds resolve every component whose
    diameter is at most that many edges; a last round checks that nothing would still change and
    fails the model (raise_error) otherwise, naming the variable to raise. Same labels as DuckDB. -#}
{% macro spark__gw_connected_components(nodes_relation, edges_relation) -%}
    {%- set rounds = var('gw_spark_component_rounds', 8) | int %}
    with

    neighbours as (

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
        union
        select
            project_id,
            node_id as from_node_id,
            node_id as to_node_id
        from {{ nodes_relation }}

    ),

    labels_0 as (

        select
            project_id,
            node_id,
            node_id as component_id
        from {{ nodes_relation }}

    ),
    {%- for round in range(1, rounds + 2) %}

    labels_{{ round }} as (

        select
            neighbours.project_id,
            neighbours.to_node_id as node_id,
            min(labels_{{ round - 1 }}.component_id) as component_id
        from labels_{{ round - 1 }}
        inner join neighbours
            on
                labels_{{ round - 1 }}.project_id = neighbours.project_id
                and labels_{{ round - 1 }}.node_id = neighbours.from_node_id
        group by neighbours.project_id, neighbours.to_node_id

    ),
    {%- endfor %}

    unconverged as (

        select count(*) as node_count
        from labels_{{ rounds }}
        inner join labels_{{ rounds + 1 }}
            on
                labels_{{ rounds }}.project_id = labels_{{ rounds + 1 }}.project_id
                and labels_{{ rounds }}.node_id = labels_{{ rounds + 1 }}.node_id
        where labels_{{ rounds }}.component_id <> labels_{{ rounds + 1 }}.component_id

    )

    select
        labels_{{ rounds }}.project_id,
        labels_{{ rounds }}.node_id,
        case
            when unconverged.node_count = 0 then labels_{{ rounds }}.component_id
            else cast(raise_error(
                'connected components did not converge in {{ rounds }} rounds: '
                || 'raise var gw_spark_component_rounds'
            ) as string)
        end as component_id
    from labels_{{ rounds }}
    cross join unconverged
{%- endmacro %}

{#- ---- Incremental models on plain Parquet ------------------------------------------------------ -#}

{#- Plain Parquet tables (no Delta, Iceberg or Hudi) support neither `merge` nor `delete+insert`,
    and `insert_overwrite` without partitions replaces the whole table with the new batch. On
    Spark with such a file format an incremental model is therefore rebuilt whole every run: the
    same rows as an incremental run, by the project's rule that a full refresh and an incremental
    run agree. With `+file_format: delta` (Databricks, Delta Lake) the models' own strategy applies.
    Both macros override dbt's (root-project macros take precedence over dbt's and the adapter's);
    on every other adapter they behave exactly as dbt's. -#}
{% macro gw_spark_rebuilds_incrementals() -%}
    {{ return(
        target.type == 'spark'
        and config.get('materialized') == 'incremental'
        and (config.get('file_format') or 'parquet') not in ('delta', 'iceberg', 'hudi')
    ) }}
{%- endmacro %}

{% macro should_full_refresh() -%}
    {%- if gw_spark_rebuilds_incrementals() -%}
        {{ return(true) }}
    {%- endif -%}
    {%- set config_full_refresh = config.get('full_refresh') -%}
    {%- if config_full_refresh is none -%}
        {%- set config_full_refresh = flags.FULL_REFRESH -%}
    {%- endif -%}
    {{ return(config_full_refresh) }}
{%- endmacro %}

{% macro dbt_spark_validate_get_incremental_strategy(raw_strategy, file_format) -%}
    {%- if gw_spark_rebuilds_incrementals() -%}
        {#- the model is rebuilt whole (should_full_refresh): its strategy never runs -#}
        {{ return('append') }}
    {%- endif -%}
    {#- dbt-spark's own rule for every other case -#}
    {%- if raw_strategy not in ['append', 'merge', 'insert_overwrite', 'microbatch'] -%}
        {%- do exceptions.raise_compiler_error(
            "Invalid incremental strategy provided: " ~ raw_strategy
            ~ "\nExpected one of: 'append', 'merge', 'insert_overwrite', 'microbatch'"
        ) -%}
    {%- elif raw_strategy == 'merge' and file_format not in ['delta', 'iceberg', 'hudi'] -%}
        {%- do exceptions.raise_compiler_error(
            "Invalid incremental strategy provided: merge\nYou can only choose this strategy when"
            ~ " file_format is set to 'delta' or 'iceberg' or 'hudi'"
        ) -%}
    {%- elif raw_strategy in ['insert_overwrite', 'microbatch'] and target.endpoint -%}
        {%- do exceptions.raise_compiler_error(
            "Invalid incremental strategy provided: " ~ raw_strategy
            ~ "\nYou cannot use this strategy when connecting via endpoint"
        ) -%}
    {%- endif -%}
    {{ return(raw_strategy) }}
{%- endmacro %}

{#- ---- Incremental state (macros/incremental.sql) ---------------------------------------------- -#}

{#- The state lives in the table's comment (Spark: the `comment` table property). -#}
{% macro spark__gw_incremental_state_read(relation) -%}
    {%- set result = run_query("show tblproperties " ~ relation ~ " ('comment')") -%}
    {%- if result.rows | length == 0 -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set comment = result.columns[-1].values()[0] -%}
    {%- if not comment or not (comment | string).startswith('{') -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return(fromjson(comment | string)) }}
{%- endmacro %}

{% macro spark__gw_incremental_state_write_sql(relation, state_json) -%}
    comment on table {{ relation }} is {{ spark__gw_string_literal(state_json) }}
{%- endmacro %}

{#- Spark has no QUALIFY: the window goes into a subquery. -#}
{% macro spark__gw_first_landed_copies(relation) -%}
    {%- set columns = [
        'event_uuid', 'project_id', 'event_name', 'distinct_id', 'properties', 'groups',
        'person_set', 'person_set_once', 'identified_group_type', 'identified_group_key',
        'identified_group_set', 'event_at', 'sent_at', 'received_at', 'source_hash', 'source_name',
        'source_row', 'loaded_at',
    ] %}
    select
        {{ columns | join(',\n        ') }}
    from (
        select
            {{ columns | join(',\n            ') }},
            row_number() over (
                partition by project_id, event_uuid
                order by loaded_at, source_name, source_row
            ) as copy_number
        from {{ relation }}
    ) as ranked_copies
    where copy_number = 1
{%- endmacro %}

{#- dbt-spark's listagg ignores the order (and warns): the values are sorted instead, so that the
    same set of values always gives the same text (the incremental fingerprints rely on it). -#}
{% macro spark__listagg(measure, delimiter_text, order_by_clause, limit_num) -%}
    {%- set collected = 'array_sort(collect_list(' ~ measure ~ '))' -%}
    {%- if limit_num -%}
        {%- set collected = 'slice(' ~ collected ~ ', 1, ' ~ limit_num ~ ')' -%}
    {%- endif -%}
    {{ return('array_join(' ~ collected ~ ', ' ~ delimiter_text ~ ')') }}
{%- endmacro %}

{#- dbt's unit tests cast their fixture rows with safe_cast and the upstream columns' declared
    types (DuckDB names): translated the same way as contracts. -#}
{% macro spark__safe_cast(field, type) -%}
    {%- set spark_type = gw_spark_type(type) | trim -%}
    {%- set is_complex = spark_type.lower().startswith(('struct', 'array', 'map')) -%}
    {%- set field_clean = field.strip('"').strip("'") if (is_complex and field is string) else field -%}
    cast({{ field_clean }} as {{ spark_type }})
{%- endmacro %}
