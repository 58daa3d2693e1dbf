{#-
    Stickiness (PostHog's StickinessQueryRunner): per series, each actor (person, or group for
    math unique_group) with the number of distinct intervals of the range in which it had a
    matching event; events count from date_from (month intervals: from the start of its month)
    through date_to.
-#}

{#- CTEs (each followed by a comma) computing the actor rows of one stickiness insight; the last
    one is `<prefix>_final`. -#}
{% macro gw_insight_stickiness_actor_ctes(insight, prefix) -%}
    {%- set unit = insight.interval %}
    {%- for series in insight.series %}
        {%- set name = prefix ~ '_series_' ~ series.index %}
        {%- if unit == 'month' %}
            {%- set lower_bound = gw_insight_period_start_utc(
                'month', 'insights.first_interval_index', 'insights.project_timezone'
            ) %}
        {%- else %}
            {%- set lower_bound = 'insights.date_from_at' %}
        {%- endif %}
        {%- set local_at = gw_to_local_timestamp('events.timestamp', 'insights.project_timezone') %}

{{ name }}_events as (

    select
        events.project_id,
        {{ gw_insight_actor(series.actor, series.group_type_index) }} as actor_id,
        {{ gw_insight_period_index(unit, 'events.timestamp', local_at) }} as period_index

    from events
    inner join insights
        on
            events.project_id = insights.project_id
            and insights.insight_id = {{ gw_insight_literal(insight.id) }}
    {{- gw_insight_event_joins(insight) }}
    where
        events.timestamp >= {{ lower_bound }}
        and events.timestamp <= insights.date_to_at
        and {{ gw_insight_actor(series.actor, series.group_type_index) }} is not null
        {{- gw_insight_event_conditions(
            series.event, [insight.properties, series.properties], series.actor, series.group_type_index
        ) }}

),

{{ name }}_actors as (

    select
        project_id,
        {{ series.index }} as series_index,
        {{ gw_insight_literal(series.actor) }} as actor_type,
        {{ series.group_type_index if series.group_type_index is not none else 'cast(null as integer)' }}
            as group_type_index,
        actor_id,
        count(distinct period_index) as active_intervals,
        count(*) as event_count

    from {{ name }}_events
    group by project_id, actor_id

),
    {%- endfor %}

{{ prefix }}_final as (

    {%- for series in insight.series %}
    select
        {{ gw_insight_literal(insight.id) }} as insight_id,
        project_id,
        series_index,
        actor_type,
        group_type_index,
        actor_id,
        active_intervals,
        event_count
    from {{ prefix }}_series_{{ series.index }}_actors
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}

),
{%- endmacro %}
