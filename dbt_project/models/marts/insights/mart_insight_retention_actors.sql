-- One row per retention insight, project, cohort, period and actor: the persons or groups of each
-- cohort (period 0) and those of them that came back `period` intervals later. The retention
-- table (mart_insight_retention) counts these rows. Per-insight SQL comes from
-- macros/insights/retention.sql, looping over the declared RetentionQuery insights.
{%- set insights = gw_insights('RetentionQuery') %}

with

events as (

    select * from {{ ref('fct_events') }}

),

insights as (

    select * from {{ ref('mart_insights') }}

),
{{- gw_insight_dimension_imports(insights) }}

{%- for insight in insights %}
    {{ gw_insight_retention_actor_ctes(insight, 'insight_' ~ loop.index) }}
{%- endfor %}

unioned as (
    {{ gw_insight_union_finals(insights | length, [
        ('insight_id', dbt.type_string()),
        ('project_id', 'bigint'),
        ('cohort_index', 'bigint'),
        ('period', 'bigint'),
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
        cast(cohort_index as bigint) as cohort_index,
        cast(period as bigint) as period,
        actor_id,

        -- attributes
        actor_type,
        cast(group_type_index as integer) as group_type_index

    from unioned

)

select * from final
