{#- The mart_insights row of one insight for every project: its kind, names, resolved range (see
    dates.sql) and period numbers of the first and last interval shown. -#}
{% macro gw_insight_catalog_select(insight) -%}
    {%- set unit = insight.interval %}
    {%- set date_from = gw_insight_resolve_date(insight.date_from, 'from', unit) %}
    {%- set date_to = gw_insight_resolve_date(insight.date_to, 'to', unit) %}
    {%- if date_from is none %}
        {%- set date_from_sql = 'earliest_events.first_event_local_day' %}
    {%- else %}
        {%- set date_from_sql = "cast('" ~ date_from ~ "' as timestamp)" %}
    {%- endif %}
    {%- set date_to_sql = "cast('" ~ date_to ~ "' as timestamp)" %}
    {%- set last_index = gw_insight_period_index(
        unit, gw_local_to_utc(date_to_sql, 'projects.project_timezone'), date_to_sql
    ) %}
    {%- if insight.kind == 'RetentionQuery' and insight.date_from is none %}
        {#- retention without date_from: the N periods that end with the one holding date_to #}
        {%- set first_index = '(' ~ last_index ~ ' - ' ~ (insight.retention.total_intervals - 1) ~ ')' %}
    {%- else %}
        {%- set first_index = gw_insight_period_index(
            unit, gw_local_to_utc(date_from_sql, 'projects.project_timezone'), date_from_sql
        ) %}
    {%- endif %}
    select
        {{ gw_insight_literal(insight.id) }} as insight_id,
        projects.project_id,
        {{ gw_insight_literal(insight.kind) }} as insight_kind,
        {{ gw_insight_literal(insight.name) }} as insight_name,
        {{ gw_insight_literal(insight.description) }} as insight_description,
        {{ gw_insight_literal(unit) }} as interval_unit,
        {{ gw_insight_literal(gw_insight_week_start()) }} as week_start_day,
        projects.project_timezone,
        cast({{ gw_insight_literal(var('run_date')) }} as date) as run_date,
        {%- if insight.kind == 'RetentionQuery' %}
        {{ gw_insight_period_start(unit, first_index, 'projects.project_timezone') }} as date_from,
        {%- else %}
        {{ date_from_sql }} as date_from,
        {%- endif %}
        {{ date_to_sql }} as date_to,
        {{ first_index }} as first_interval_index,
        {{ last_index }} as last_interval_index,
        {{ insight.retention.total_intervals if insight.kind == 'RetentionQuery' else 'cast(null as integer)' }}
            as lookahead_intervals,
        {{ gw_insight_literal(tojson(insight, sort_keys=true)) }} as definition

    from projects
    {%- if date_from is none %}
    left join earliest_events
        on projects.project_id = earliest_events.project_id
    {%- endif %}
{%- endmacro %}

{#- Whether any of `insights` starts at date_from 'all' (needs the projects' first events). -#}
{% macro gw_insights_need_earliest(insights) -%}
    {%- for insight in insights if insight.date_from is not none and insight.date_from.kind == 'all' -%}
        {{ return(true) }}
    {%- endfor -%}
    {{ return(false) }}
{%- endmacro %}
