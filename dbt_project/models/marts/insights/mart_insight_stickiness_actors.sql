-- One row per stickiness insight, project, series and actor: on how many intervals of the range
-- the person or group did the series' event (`active_intervals`). The stickiness chart
-- (mart_insight_stickiness) counts these rows. Per-insight SQL comes from
-- macros/insights/stickiness.sql, looping over the declared StickinessQuery insights.
{%- set insights = gw_insights('StickinessQuery') %}

with

events as (

    select * from {{ ref('fct_events') }}

),

insights as (

    select * from {{ ref('mart_insights') }}

),
{{- gw_insight_dimension_imports(insights) }}

{%- for insight in insights %}
    {{ gw_insight_stickiness_actor_ctes(insight, 'insight_' ~ loop.index) }}
{%- endfor %}

unioned as (
    {{ gw_insight_union_finals(insights | length, [
        ('insight_id', dbt.type_string()),
        ('project_id', 'bigint'),
        ('series_index', 'integer'),
        ('actor_type', dbt.type_string()),
        ('group_type_index', 'integer'),
        ('actor_id', dbt.type_string()),
        ('active_intervals', 'bigint'),
        ('event_count', 'bigint'),
    ]) }}
),

final as (

    select
        -- keys
        insight_id,
        project_id,
        cast(series_index as integer) as series_index,
        actor_id,

        -- attributes
        actor_type,
        cast(group_type_index as integer) as group_type_index,

        -- measures
        cast(active_intervals as bigint) as active_intervals,
        cast(event_count as bigint) as event_count

    from unioned

)

select * from final
