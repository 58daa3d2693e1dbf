{#-
    Incremental models (README "Incremental models", docs/incremental.md).

    An incremental model re-reads the rows LOADED (landed: `loaded_at`) within
    var('incremental_lookback_days') before the newest load its last build had read, never rows
    selected by event time, so an event is counted however late it happened. Everything that can
    rewrite past rows is handled without a load-time filter:

    * the inputs a model's past rows depend on besides the new events (group deletion requests,
      the group type mapping, the projects' time zones) are summed up in a FINGERPRINT stored
      with the table; when it differs from the current one the next run is a REBUILD: every row is
      recomputed and the table replaced in the same transaction (strategy `gw_replace`), which is
      what a `--full-refresh` would give;
    * person merges are recomputed by key in the models that carry person ids (fct_events).

    The state (fingerprint and the newest `loaded_at` read) lives in the table's comment as JSON:
    engine-specific, so read and written through dispatched macros. The model declares what its
    fingerprint covers and where its newest load is read in `meta`:

        config(meta={'incremental': {'fingerprint': ['deletions'], 'loaded_at_from': 'stg_lake__events'}})

    and keeps a `-- depends_on: {{ ref(...) }}` line for every relation those name, so dbt
    orders it after them.
-#}

{#- Days of loads re-read by every incremental run (var incremental_lookback_days, default 7). -#}
{% macro gw_incremental_lookback_days() -%}
    {%- set days = var('incremental_lookback_days', 7) | int -%}
    {%- if days < 0 -%}
        {{ exceptions.raise_compiler_error("var incremental_lookback_days must be >= 0, got " ~ days) }}
    {%- endif -%}
    {{ return(days) }}
{%- endmacro %}

{#- The model's incremental settings from meta.incremental (see above). -#}
{% macro gw_incremental_settings() -%}
    {%- set meta = config.get('meta') or {} -%}
    {{ return(meta.get('incremental') or {}) }}
{%- endmacro %}

{#- One fingerprint input as a scalar SQL query returning text. -#}
{% macro gw_incremental_fingerprint_input(name) -%}
    {%- if name == 'deletions' -%}
        {#- request ids, never group keys: the state must not name a deleted group -#}
        select
            '{{ var("group_deletion_events") }}:'
            || coalesce({{ dbt.listagg('request_id', "','", 'order by request_id') }}, '')
        from {{ ref('stg_warehouse__group_deletions') }}
    {%- elif name == 'group_types' -%}
        select coalesce({{ dbt.listagg(
            "cast(project_id as " ~ dbt.type_string() ~ ") || ':' || group_type || ':' || cast(group_type_index as "
            ~ dbt.type_string() ~ ")",
            "','",
            'order by project_id, group_type_index'
        ) }}, '')
        from {{ ref('dim_group_types') }}
    {%- elif name == 'projects' -%}
        select coalesce({{ dbt.listagg(
            "cast(project_id as " ~ dbt.type_string() ~ ") || ':' || project_timezone",
            "','",
            'order by project_id'
        ) }}, '')
        from {{ ref('stg_lake__projects') }}
    {%- else -%}
        {{ exceptions.raise_compiler_error("unknown incremental fingerprint input '" ~ name ~ "'") }}
    {%- endif -%}
{%- endmacro %}

{#- The current fingerprint of the model's declared inputs (run at execution time). -#}
{% macro gw_incremental_fingerprint() -%}
    {%- set inputs = gw_incremental_settings().get('fingerprint', []) -%}
    {%- if not execute or inputs | length == 0 -%}
        {{ return('none') }}
    {%- endif -%}
    {%- set parts = [] -%}
    {%- for name in inputs -%}
        {%- do parts.append("'" ~ name ~ "=' || coalesce((" ~ gw_incremental_fingerprint_input(name) ~ "), '')") -%}
    {%- endfor -%}
    {%- set result = run_query("select " ~ dbt.hash(parts | join(" || '|' || "))) -%}
    {{ return(result.columns[0].values()[0] | string) }}
{%- endmacro %}

{#- The newest `loaded_at` the model has read once this build is done (run at execution time). -#}
{% macro gw_incremental_loaded_through(relation) -%}
    {%- set source_name = gw_incremental_settings().get('loaded_at_from') -%}
    {%- set source = ref(source_name) if source_name else relation -%}
    {%- set result = run_query("select cast(max(loaded_at) as " ~ dbt.type_string() ~ ") from " ~ source) -%}
    {%- set value = result.columns[0].values()[0] -%}
    {{ return(none if value is none else value | string) }}
{%- endmacro %}

{#- What this run of an incremental model reads:
      mode 'full'        not incremental (first build, --full-refresh, parsing): every row;
      mode 'rebuild'     the table exists but its fingerprint (or state) is stale: every row, and
                         strategy gw_replace replaces the whole table;
      mode 'incremental' rows loaded at or after `cutoff` (a SQL timestamp expression).
    `filtered` is true only for 'incremental'. -#}
{% macro gw_incremental_window(relation) -%}
    {%- if not execute or relation is none or not is_incremental() -%}
        {{ return({'mode': 'full', 'filtered': false, 'cutoff': none}) }}
    {%- endif -%}
    {%- set state = gw_incremental_state_read(relation) -%}
    {%- set fingerprint = gw_incremental_fingerprint() -%}
    {%- if state is none or state.get('fingerprint') != fingerprint or not state.get('loaded_through') -%}
        {{ return({'mode': 'rebuild', 'filtered': false, 'cutoff': none}) }}
    {%- endif -%}
    {%- set cutoff = dbt.dateadd(
        'day', -1 * gw_incremental_lookback_days(), "cast('" ~ state.get('loaded_through') ~ "' as timestamp)"
    ) -%}
    {{ return({'mode': 'incremental', 'filtered': true, 'cutoff': cutoff}) }}
{%- endmacro %}

{#- Post-hook of every incremental model: store the fingerprint and the newest load read. -#}
{% macro gw_incremental_save_state(relation) -%}
    {%- if not execute -%}
        {{ return('') }}
    {%- endif -%}
    {%- set state = {
        'fingerprint': gw_incremental_fingerprint(),
        'loaded_through': gw_incremental_loaded_through(relation),
        'lookback_days': gw_incremental_lookback_days(),
    } -%}
    {{ return(gw_incremental_state_write_sql(relation, tojson(state, sort_keys=true))) }}
{%- endmacro %}

{#- The state stored with a relation (a dict), or none. -#}
{% macro gw_incremental_state_read(relation) -%}
    {{ return(adapter.dispatch('gw_incremental_state_read', 'group_warehouse')(relation)) }}
{%- endmacro %}

{% macro default__gw_incremental_state_read(relation) -%}
    {%- set result = run_query(
        "select comment from duckdb_tables() where database_name = '" ~ relation.database
        ~ "' and schema_name = '" ~ relation.schema ~ "' and table_name = '" ~ relation.identifier ~ "'"
    ) -%}
    {%- if result.rows | length == 0 -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set comment = result.columns[0].values()[0] -%}
    {%- if not comment or not (comment | string).startswith('{') -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return(fromjson(comment | string)) }}
{%- endmacro %}

{#- SQL that stores `state_json` with a relation. -#}
{% macro gw_incremental_state_write_sql(relation, state_json) -%}
    {{ return(adapter.dispatch('gw_incremental_state_write_sql', 'group_warehouse')(relation, state_json)) }}
{%- endmacro %}

{% macro default__gw_incremental_state_write_sql(relation, state_json) -%}
    comment on table {{ relation }} is '{{ state_json | replace("'", "''") }}'
{%- endmacro %}

{#- Incremental strategy `gw_replace`: delete+insert by `unique_key` (which may be coarser than
    the row grain: every row of a key the run recomputed is replaced, e.g. all rows of a day), or,
    when the run is a rebuild (stale fingerprint), replace the whole table. One transaction. -#}
{% macro get_incremental_gw_replace_sql(arg_dict) -%}
    {%- set target = arg_dict['target_relation'] -%}
    {%- if gw_incremental_window(target).mode == 'rebuild' -%}
        {%- set columns = get_quoted_csv(arg_dict['dest_columns'] | map(attribute='name')) -%}
        delete from {{ target }};
        insert into {{ target }} ({{ columns }})
        select {{ columns }}
        from {{ arg_dict['temp_relation'] }}
    {%- else -%}
        {{ get_incremental_delete_insert_sql(arg_dict) }}
    {%- endif -%}
{%- endmacro %}

{#- The first landed copy of every (project_id, event_uuid) of `relation` (a ref or CTE name with
    stg_lake__events' columns): clients resend whole batches, so the lake can hold several copies.
    Landing order (loaded_at, source_name, source_row) decides, never the wall clock. -#}
{% macro gw_first_landed_copies(relation) -%}
    {{ return(adapter.dispatch('gw_first_landed_copies', 'group_warehouse')(relation)) }}
{%- endmacro %}

{% macro default__gw_first_landed_copies(relation) -%}
    select
        event_uuid,
        project_id,
        event_name,
        distinct_id,
        properties,
        groups,
        person_set,
        person_set_once,
        identified_group_type,
        identified_group_key,
        identified_group_set,
        event_at,
        sent_at,
        received_at,
        source_hash,
        source_name,
        source_row,
        loaded_at

    from {{ relation }}
    qualify row_number() over (
        partition by project_id, event_uuid
        order by loaded_at, source_name, source_row
    ) = 1
{%- endmacro %}
