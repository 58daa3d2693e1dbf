{#-
    Lifecycle (PostHog's LifecycleQueryRunner): per actor (person, or group of
    aggregation_group_type_index) the sorted periods with a matching event, read from the period
    before date_from through date_to's period. The i-th active period is
      new          when i = 1 and it is the period of the actor's created_at (groups: first
                   sighting, dim_groups.created_at; persons: first event, dim_persons.created_at),
      returning    when i > 1 and the actor was active in the period just before,
      resurrecting otherwise;
    the period after an active period without activity is dormant (charted negative). Events
    with `$process_person_profile` false do not count. Only date_from … date_to periods are kept.
-#}

{#- CTEs (each followed by a comma) computing the actor rows of one lifecycle insight; the last
    one is `<prefix>_final`. -#}
{% macro gw_insight_lifecycle_actor_ctes(insight, prefix) -%}
    {%- set unit = insight.interval %}
    {%- set series = insight.series[0] %}
    {%- set by_group = insight.aggregation_group_type_index is not none %}
    {%- set actor = 'group' if by_group else 'person' %}
    {%- set group_type_index = insight.aggregation_group_type_index %}
    {%- set local_at = gw_to_local_timestamp('events.timestamp', 'insights.project_timezone') %}

{{ prefix }}_events as (

    select
        events.project_id,
        insights.project_timezone,
        insights.first_interval_index,
        insights.last_interval_index,
        {{ gw_insight_actor(actor, group_type_index) }} as actor_id,
        {{ gw_insight_period_index(unit, 'events.timestamp', local_at) }} as period_index

    from events
    inner join insights
        on
            events.project_id = insights.project_id
            and insights.insight_id = {{ gw_insight_literal(insight.id) }}
    {{- gw_insight_event_joins(insight) }}
    where
        events.timestamp >= {{ gw_insight_period_start_utc(
            unit, 'insights.first_interval_index - 1', 'insights.project_timezone'
        ) }}
        and events.timestamp < {{ gw_insight_period_start_utc(
            unit, 'insights.last_interval_index + 1', 'insights.project_timezone'
        ) }}
        and coalesce({{ gw_json_text('events.properties', '$process_person_profile') }}, '') <> 'false'
        and {{ gw_insight_actor(actor, group_type_index) }} is not null
        {{- gw_insight_event_conditions(
            series.event, [insight.properties, series.properties], actor, group_type_index
        ) }}

),

{{ prefix }}_activity as (

    select distinct
        project_id,
        project_timezone,
        first_interval_index,
        last_interval_index,
        actor_id,
        period_index

    from {{ prefix }}_events

),

{{ prefix }}_sequenced as (

    select
        activity.project_id,
        activity.first_interval_index,
        activity.last_interval_index,
        activity.actor_id,
        activity.period_index,
        {%- set created_at = 'groups.created_at' if by_group else 'persons.created_at' %}
        {{ gw_insight_period_index(
            unit, created_at, gw_to_local_timestamp(created_at, 'activity.project_timezone')
        ) }} as created_period_index,
        row_number() over (
            partition by activity.project_id, activity.actor_id
            order by activity.period_index
        ) as activity_number,
        lag(activity.period_index) over (
            partition by activity.project_id, activity.actor_id
            order by activity.period_index
        ) as previous_period_index,
        lead(activity.period_index) over (
            partition by activity.project_id, activity.actor_id
            order by activity.period_index
        ) as next_period_index

    from {{ prefix }}_activity as activity
    {%- if by_group %}
    left join groups
        on
            activity.project_id = groups.project_id
            and groups.group_type_index = {{ group_type_index }}
            and activity.actor_id = groups.group_key
    {%- else %}
    left join persons
        on
            activity.project_id = persons.project_id
            and activity.actor_id = persons.person_id
    {%- endif %}

),

{{ prefix }}_statuses as (

    select
        project_id,
        first_interval_index,
        last_interval_index,
        actor_id,
        period_index,
        case
            when activity_number = 1 and created_period_index = period_index then 'new'
            when activity_number > 1 and previous_period_index = period_index - 1 then 'returning'
            else 'resurrecting'
        end as status
    from {{ prefix }}_sequenced

    union all

    select
        project_id,
        first_interval_index,
        last_interval_index,
        actor_id,
        period_index + 1 as period_index,
        'dormant' as status
    from {{ prefix }}_sequenced
    where next_period_index is null or next_period_index <> period_index + 1

),

{{ prefix }}_final as (

    select
        {{ gw_insight_literal(insight.id) }} as insight_id,
        project_id,
        period_index - first_interval_index as interval_index,
        status,
        {{ gw_insight_literal(actor) }} as actor_type,
        {{ group_type_index if by_group else 'cast(null as integer)' }} as group_type_index,
        actor_id

    from {{ prefix }}_statuses
    where period_index between first_interval_index and last_interval_index

),
{%- endmacro %}
