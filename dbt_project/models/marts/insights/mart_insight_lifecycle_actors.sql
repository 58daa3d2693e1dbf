-- One row per lifecycle insight, project, interval and actor with a status in it: which persons
-- or groups were new, returning, resurrecting or dormant (went quiet) in each interval. The
-- lifecycle chart (mart_insight_lifecycle) counts these rows. Per-insight SQL comes from
-- macros/insights/lifecycle.sql, looping over the declared LifecycleQuery insights.
{%- set insights = gw_insights('LifecycleQuery') %}
{%- set by_person = insights | selectattr('aggregation_group_type_index', 'none') | list %}

with

events as (

    select * from {{ ref('fct_events') }}

),

insights as (

    select * from {{ ref('mart_insights') }}

),
{{- gw_insight_dimension_imports(
    insights, with_persons=by_person | length > 0, with_groups=by_person | length < insights | length
) }}

{%- for insight in insights %}
    {{ gw_insight_lifecycle_actor_ctes(insight, 'insight_' ~ loop.index) }}
{%- endfor %}

unioned as (
    {{ gw_insight_union_finals(insights | length, [
        ('insight_id', dbt.type_string()),
        ('project_id', 'bigint'),
        ('interval_index', 'bigint'),
        ('status', dbt.type_string()),
        ('actor_type', dbt.type_string()),
        ('group_type_index', 'integer'),
        ('actor_id', dbt.type_string()),
    ]) }}
),

final as (

    select
        -- keys
        insight_id,
        project_id,
        cast(interval_index as bigint) as interval_index,
        actor_id,

        -- attributes
        status,
        actor_type,
        cast(group_type_index as integer) as group_type_index

    from unioned

)

select * from final
