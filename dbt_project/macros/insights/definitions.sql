{#-
    Insight definitions: the insight files of dbt_project/insights/ (or $GW_INSIGHTS_DIR),
    validated and normalised by gw/insights/compile.py into macros/generated/gw_insight_definitions.sql.
    Every insight mart loops over `gw_insights(kind)`; the SQL of one insight is built by the macros
    in this folder from its normalised JSON (see gw/insights/compile.py, `normalise`).

    var `gw_insight_definitions` (a list, or its JSON text) replaces the generated definitions; tests
    use it to build their own insights without touching the generated file.
-#}

{#- The normalised insight definitions, all of them or those of one query kind, sorted by id. -#}
{% macro gw_insights(kind=none) -%}
    {%- set override = var('gw_insight_definitions', none) -%}
    {%- if override is none -%}
        {%- set definitions = gw_insight_definitions() -%}
    {%- elif override is string -%}
        {%- set definitions = fromjson(override) -%}
    {%- else -%}
        {%- set definitions = override -%}
    {%- endif -%}
    {%- if kind is none -%}
        {{ return(definitions) }}
    {%- endif -%}
    {{ return(definitions | selectattr('kind', 'equalto', kind) | list) }}
{%- endmacro %}

{#- Whether any of `insights` filters or breaks down by person properties (joins dim_persons). -#}
{% macro gw_insights_need_persons(insights) -%}
    {{ return(insights | selectattr('joins.person') | list | length > 0) }}
{%- endmacro %}

{#- Whether any of `insights` filters or breaks down by group properties (joins dim_groups). -#}
{% macro gw_insights_need_groups(insights) -%}
    {%- for insight in insights if insight.joins.groups | length > 0 -%}
        {{ return(true) }}
    {%- endfor -%}
    {{ return(false) }}
{%- endmacro %}

{#- A text as a SQL string literal, `null` for none. -#}
{% macro gw_insight_literal(value) -%}
    {%- if value is none -%}
        cast(null as {{ dbt.type_string() }})
    {%- else -%}
        {{ gw_string_literal(value) }}
    {%- endif -%}
{%- endmacro %}

{#- The day weeks start on: var `insight_week_start`, `sunday` (PostHog's default) or `monday`. -#}
{% macro gw_insight_week_start() -%}
    {%- set week_start = var('insight_week_start', 'sunday') | lower -%}
    {%- if week_start not in ('sunday', 'monday') -%}
        {{ exceptions.raise_compiler_error("var insight_week_start must be 'sunday' or 'monday', got '" ~ week_start ~ "'") }}
    {%- endif -%}
    {{ return(week_start) }}
{%- endmacro %}

{#- How group properties reach insights: var `insight_group_properties`, `current` (PostHog: the
    group's properties now) or `as_of_event` (the value the property had when the event happened). -#}
{% macro gw_insight_group_property_mode() -%}
    {%- set mode = var('insight_group_properties', 'current') -%}
    {%- if mode not in ('current', 'as_of_event') -%}
        {{ exceptions.raise_compiler_error("var insight_group_properties must be 'current' or 'as_of_event', got '" ~ mode ~ "'") }}
    {%- endif -%}
    {{ return(mode) }}
{%- endmacro %}

{#- Names PostHog uses for breakdown values that are missing and for the values past the limit. -#}
{% macro gw_insight_breakdown_null_label() -%}$$_posthog_breakdown_null_$${%- endmacro %}
{% macro gw_insight_breakdown_other_label() -%}$$_posthog_breakdown_other_$${%- endmacro %}

{#- The body of a CTE that stacks the `insight_<n>_final` CTEs of `count` insights, or, without
    insights, an empty relation with `columns` (a list of (name, SQL type) pairs). -#}
{% macro gw_insight_union_finals(count, columns, suffix='_final') -%}
    {%- if count == 0 %}
    select
        {%- for name, type in columns %}
        cast(null as {{ type }}) as {{ name }}{{ ',' if not loop.last }}
        {%- endfor %}
    where false
    {%- else %}
        {%- for number in range(1, count + 1) %}
    select * from insight_{{ number }}{{ suffix }}
            {%- if not loop.last %}
    union all
            {%- endif %}
        {%- endfor %}
    {%- endif %}
{%- endmacro %}
