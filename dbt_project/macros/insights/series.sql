{#- A `select … union all …` of the declared series of `insights` (one row per series), for a
    CTE: insight_id, series_index, series_label, series_custom_name, series_event, math (as
    computed), declared_math, actor_type, group_type_index, has_breakdown. -#}
{% macro gw_insight_series_rows(insights) -%}
    {%- set rows = [] -%}
    {%- for insight in insights -%}
        {%- for series in insight.series -%}
            {%- do rows.append((insight, series)) -%}
        {%- endfor -%}
    {%- endfor -%}
    {%- for insight, series in rows %}
    select
        {{ gw_insight_literal(insight.id) }} as insight_id,
        {{ series.index }} as series_index,
        {{ gw_insight_literal(series.label) }} as series_label,
        {{ gw_insight_literal(series.custom_name) }} as series_custom_name,
        {{ gw_insight_literal(series.event) }} as series_event,
        {{ gw_insight_literal(series.math) }} as math,
        {{ gw_insight_literal(series.declared_math) }} as declared_math,
        {{ gw_insight_literal(series.actor) }} as actor_type,
        {{ series.group_type_index if series.group_type_index is not none else 'cast(null as integer)' }}
            as group_type_index,
        {{ 'true' if insight.breakdown is defined and insight.breakdown is not none else 'false' }} as has_breakdown
        {%- if not loop.last %}
    union all
        {%- endif %}
    {%- endfor %}
    {%- if not rows %}
    select
        cast(null as {{ dbt.type_string() }}) as insight_id,
        cast(null as integer) as series_index,
        cast(null as {{ dbt.type_string() }}) as series_label,
        cast(null as {{ dbt.type_string() }}) as series_custom_name,
        cast(null as {{ dbt.type_string() }}) as series_event,
        cast(null as {{ dbt.type_string() }}) as math,
        cast(null as {{ dbt.type_string() }}) as declared_math,
        cast(null as {{ dbt.type_string() }}) as actor_type,
        cast(null as integer) as group_type_index,
        false as has_breakdown
    where false
    {%- endif %}
{%- endmacro %}
