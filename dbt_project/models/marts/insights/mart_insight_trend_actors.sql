-- One row per trends insight, project, series, breakdown value, interval and actor: who is behind
-- each point of a trend (drill-down), with the events they contributed. The trend's point values
-- are aggregates of these rows (mart_insight_trends). Per-insight SQL comes from
-- macros/insights/trends.sql, looping over the declared TrendsQuery insights.
{%- set insights = gw_insights('TrendsQuery') %}

with

events as (

    select * from {{ ref('fct_events') }}

),

insights as (

    select * from {{ ref('mart_insights') }}

),

intervals as (

    select * from {{ ref('mart_insight_intervals') }}

),
{{- gw_insight_dimension_imports(insights) }}

{%- for insight in insights %}
    {{ gw_insight_trend_actor_ctes(insight, 'insight_' ~ loop.index) }}
{%- endfor %}

unioned as (
    {{ gw_insight_union_finals(insights | length, [
        ('insight_id', dbt.type_string()),
        ('project_id', 'bigint'),
        ('series_index', 'integer'),
        ('math', dbt.type_string()),
        ('breakdown_value', dbt.type_string()),
        ('breakdown_property_value', dbt.type_string()),
        ('breakdown_rank', 'bigint'),
        ('interval_index', 'bigint'),
        ('actor_type', dbt.type_string()),
        ('group_type_index', 'integer'),
        ('actor_id', dbt.type_string()),
        ('event_count', 'bigint'),
    ]) }}
),

final as (

    select
        -- keys
        unioned.insight_id,
        unioned.project_id,
        cast(unioned.series_index as integer) as series_index,
        unioned.breakdown_property_value,
        cast(unioned.interval_index as bigint) as interval_index,
        unioned.actor_id,

        -- attributes
        unioned.math,
        unioned.breakdown_value,
        unioned.breakdown_rank,
        unioned.actor_type,
        cast(unioned.group_type_index as integer) as group_type_index,
        intervals.interval_start,

        -- measures
        cast(unioned.event_count as bigint) as event_count

    from unioned
    inner join intervals
        on
            unioned.insight_id = intervals.insight_id
            and unioned.project_id = intervals.project_id
            and unioned.interval_index = intervals.interval_index

)

select * from final
