{#-
    Trends (PostHog's TrendsQueryRunner, trends_query_builder.py and aggregation_operations.py):

    * events count from date_from (month intervals: from the start of date_from's month) through
      date_to; each lands in the interval holding its local time;
    * math total = events, dau = distinct persons (or groups with math_group_type_index),
      unique_group = distinct non-empty group keys; weekly_active / monthly_active count the actors
      active on the interval's first day or the 6 (29) days before it — per local hour for hourly
      insights — from events since date_from − 7 (30) days; they become dau when the interval is
      a week or longer (month or longer for monthly_active);
    * a breakdown keeps the `breakdown_limit` (25) values ranked by their summed points (missing
      values last, then larger totals, then by value) and sums the rest into "Other".
-#}

{#- CTEs (each followed by a comma) computing the actor rows of one trends insight; the last one is
    `<prefix>_final`. -#}
{% macro gw_insight_trend_actor_ctes(insight, prefix) -%}
    {%- set unit = insight.interval %}
    {%- set breakdown = insight.breakdown %}
    {%- for series in insight.series %}
        {%- set name = prefix ~ '_series_' ~ series.index %}
        {%- set active_window = {'weekly_active': 7, 'monthly_active': 30}.get(series.math) %}
        {%- if active_window is not none %}
            {%- set lower_bound = gw_local_to_utc(
                dbt.dateadd('day', -active_window, 'insights.date_from'), 'insights.project_timezone'
            ) %}
        {%- elif unit == 'month' %}
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
        insights.first_interval_index,
        {{ gw_insight_actor(series.actor, series.group_type_index) }} as actor_id,
        {{ gw_insight_breakdown_value(breakdown) }} as breakdown_property_value,
        {{ gw_insight_period_index(unit, 'events.timestamp', local_at) }} as period_index,
        {{ gw_insight_activity_index(unit, local_at) }} as activity_index

    from events
    inner join insights
        on
            events.project_id = insights.project_id
            and insights.insight_id = {{ gw_insight_literal(insight.id) }}
    {{- gw_insight_event_joins(insight) }}
    where
        events.timestamp >= {{ lower_bound }}
        and events.timestamp <= insights.date_to_at
        {{- gw_insight_event_conditions(
            series.event, [insight.properties, series.properties], series.actor, series.group_type_index
        ) }}

),

        {%- if active_window is not none %}
            {%- set window_length = active_window * 24 if unit == 'hour' else active_window %}
            {%- set anchor = gw_insight_activity_index(unit, 'intervals.interval_start') %}

{{ name }}_activity as (

    select
        project_id,
        breakdown_property_value,
        actor_id,
        activity_index,
        count(*) as event_count

    from {{ name }}_events
    group by project_id, breakdown_property_value, actor_id, activity_index

),

{{ name }}_actors as (

    -- actors active in the window that ends with the interval's first day (hour)
    select
        intervals.project_id,
        activity.breakdown_property_value,
        intervals.interval_index,
        activity.actor_id,
        sum(activity.event_count) as event_count

    from intervals
    inner join {{ name }}_activity as activity
        on
            intervals.project_id = activity.project_id
            and activity.activity_index > {{ anchor }} - {{ window_length }}
            and activity.activity_index <= {{ anchor }}
    where intervals.insight_id = {{ gw_insight_literal(insight.id) }}
    group by
        intervals.project_id,
        activity.breakdown_property_value,
        intervals.interval_index,
        activity.actor_id

),
        {%- else %}

{{ name }}_actors as (

    select
        project_id,
        breakdown_property_value,
        period_index - first_interval_index as interval_index,
        actor_id,
        count(*) as event_count

    from {{ name }}_events
    group by project_id, breakdown_property_value, period_index - first_interval_index, actor_id

),
        {%- endif %}

{{ name }}_values as (

    select
        project_id,
        breakdown_property_value,
        interval_index,
        {%- if series.math == 'total' %}
        sum(event_count) as point_value
        {%- else %}
        count(distinct actor_id) as point_value
        {%- endif %}

    from {{ name }}_actors
    group by project_id, breakdown_property_value, interval_index

),
    {%- endfor %}

{{ prefix }}_actors as (

    {%- for series in insight.series %}
    select
        project_id,
        {{ series.index }} as series_index,
        {{ gw_insight_literal(series.math) }} as math,
        {{ gw_insight_literal(series.actor) }} as actor_type,
        {{ series.group_type_index if series.group_type_index is not none else 'cast(null as integer)' }}
            as group_type_index,
        breakdown_property_value,
        interval_index,
        actor_id,
        event_count
    from {{ prefix }}_series_{{ series.index }}_actors
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}

),

    {%- if breakdown is not none %}

{{ prefix }}_ranks as (

    {%- for series in insight.series %}
    select
        project_id,
        {{ series.index }} as series_index,
        breakdown_property_value,
        row_number() over (
            partition by project_id
            order by
                case when breakdown_property_value = '{{ gw_insight_breakdown_null_label() }}' then 1 else 0 end,
                sum(point_value) desc,
                breakdown_property_value
        ) as breakdown_rank
    from {{ prefix }}_series_{{ series.index }}_values
    group by project_id, breakdown_property_value
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}

),
    {%- endif %}

{{ prefix }}_final as (

    select
        {{ gw_insight_literal(insight.id) }} as insight_id,
        actors.project_id,
        actors.series_index,
        actors.math,
        {%- if breakdown is none %}
        cast(null as {{ dbt.type_string() }}) as breakdown_value,
        actors.breakdown_property_value,
        cast(null as bigint) as breakdown_rank,
        {%- else %}
        case
            when ranks.breakdown_rank <= {{ breakdown.limit }} then actors.breakdown_property_value
            else '{{ gw_insight_breakdown_other_label() }}'
        end as breakdown_value,
        actors.breakdown_property_value,
        ranks.breakdown_rank,
        {%- endif %}
        actors.interval_index,
        actors.actor_type,
        actors.group_type_index,
        actors.actor_id,
        actors.event_count

    from {{ prefix }}_actors as actors
    {%- if breakdown is not none %}
    inner join {{ prefix }}_ranks as ranks
        on
            actors.project_id = ranks.project_id
            and actors.series_index = ranks.series_index
            and actors.breakdown_property_value = ranks.breakdown_property_value
    {%- if breakdown.hide_other %}
    where ranks.breakdown_rank <= {{ breakdown.limit }}
    {%- endif %}
    {%- endif %}

),
{%- endmacro %}
