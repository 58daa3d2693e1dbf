{#-
    Retention (PostHog's RetentionQueryRunner, calendar periods): cohorts are the periods
    first_interval_index … last_interval_index (date_from's period, or the `totalIntervals` periods
    ending with date_to's); an actor (person, or group of aggregation_group_type_index) joins
    cohort r when it did the target event in period r (recurring: every such period; first time:
    only the period of its first-ever target event, which must lie in the range), and appears in
    column c > 0 when it did the returning event in period r + c (inside the range, c below
    totalIntervals). Column 0 is the cohort itself.
-#}

{#- CTEs (each followed by a comma) computing the actor rows of one retention insight; the last
    one is `<prefix>_final`. -#}
{% macro gw_insight_retention_actor_ctes(insight, prefix) -%}
    {%- set unit = insight.interval %}
    {%- set retention = insight.retention %}
    {%- set by_group = insight.aggregation_group_type_index is not none %}
    {%- set actor = 'group' if by_group else 'person' %}
    {%- set group_type_index = insight.aggregation_group_type_index %}
    {%- set local_at = gw_to_local_timestamp('events.timestamp', 'insights.project_timezone') %}
    {%- set range_start = gw_insight_period_start_utc(unit, 'insights.first_interval_index', 'insights.project_timezone') %}
    {%- set range_end = gw_insight_period_start_utc(unit, 'insights.last_interval_index + 1', 'insights.project_timezone') %}
    {%- set is_target -%}
        (true {{- gw_insight_event_conditions(retention.target.event, [retention.target.properties]) }})
    {%- endset %}
    {%- set is_returning -%}
        (true {{- gw_insight_event_conditions(retention.returning.event, [retention.returning.properties]) }})
    {%- endset %}

{{ prefix }}_events as (

    select
        events.project_id,
        insights.project_timezone,
        insights.first_interval_index,
        insights.last_interval_index,
        insights.lookahead_intervals,
        {{ gw_insight_actor(actor, group_type_index) }} as actor_id,
        events.timestamp as event_at,
        {{ gw_insight_period_index(unit, 'events.timestamp', local_at) }} as period_index,
        events.timestamp >= {{ range_start }} as is_in_range,
        {{ is_target }} as is_target,
        {{ is_returning }} as is_returning

    from events
    inner join insights
        on
            events.project_id = insights.project_id
            and insights.insight_id = {{ gw_insight_literal(insight.id) }}
    {{- gw_insight_event_joins(insight) }}
    where
        events.timestamp < {{ range_end }}
        {%- if retention.type == 'recurring' %}
        and events.timestamp >= {{ range_start }}
        {%- endif %}
        and ({{ is_target }} or {{ is_returning }})
        and {{ gw_insight_actor(actor, group_type_index) }} is not null
        {{- gw_insight_event_conditions(none, [insight.properties], actor, group_type_index) }}

),

    {%- if retention.type == 'first_time' %}

{{ prefix }}_first_targets as (

    select
        project_id,
        project_timezone,
        first_interval_index,
        last_interval_index,
        lookahead_intervals,
        actor_id,
        min(event_at) as first_target_at

    from {{ prefix }}_events
    where is_target
    group by
        project_id, project_timezone, first_interval_index, last_interval_index, lookahead_intervals, actor_id

),

{{ prefix }}_cohorts as (

    -- first time: the cohort is the period of the actor's first-ever target event
    select
        project_id,
        first_interval_index,
        last_interval_index,
        lookahead_intervals,
        actor_id,
        {{ gw_insight_period_index(
            unit, 'first_target_at', gw_to_local_timestamp('first_target_at', 'project_timezone')
        ) }} as cohort_period_index

    from {{ prefix }}_first_targets

),
    {%- else %}

{{ prefix }}_cohorts as (

    -- recurring: every period with a target event is a cohort of the actor
    select distinct
        project_id,
        first_interval_index,
        last_interval_index,
        lookahead_intervals,
        actor_id,
        period_index as cohort_period_index

    from {{ prefix }}_events
    where is_target

),
    {%- endif %}

{{ prefix }}_returns as (

    select distinct
        project_id,
        actor_id,
        period_index

    from {{ prefix }}_events
    where is_returning and is_in_range

),

{{ prefix }}_final as (

    select
        {{ gw_insight_literal(insight.id) }} as insight_id,
        project_id,
        cohort_period_index - first_interval_index as cohort_index,
        0 as period,
        {{ gw_insight_literal(actor) }} as actor_type,
        {{ group_type_index if by_group else 'cast(null as integer)' }} as group_type_index,
        actor_id
    from {{ prefix }}_cohorts
    where cohort_period_index between first_interval_index and last_interval_index

    union all

    select
        {{ gw_insight_literal(insight.id) }} as insight_id,
        cohorts.project_id,
        cohorts.cohort_period_index - cohorts.first_interval_index as cohort_index,
        returns.period_index - cohorts.cohort_period_index as period,
        {{ gw_insight_literal(actor) }} as actor_type,
        {{ group_type_index if by_group else 'cast(null as integer)' }} as group_type_index,
        cohorts.actor_id
    from {{ prefix }}_cohorts as cohorts
    inner join {{ prefix }}_returns as returns
        on
            cohorts.project_id = returns.project_id
            and cohorts.actor_id = returns.actor_id
            and returns.period_index > cohorts.cohort_period_index
            and returns.period_index - cohorts.cohort_period_index < cohorts.lookahead_intervals
    where cohorts.cohort_period_index between cohorts.first_interval_index and cohorts.last_interval_index

),
{%- endmacro %}
