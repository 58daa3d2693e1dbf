-- One row per funnel insight, project, breakdown property value and actor (person, or group key
-- with aggregation_group_type_index): how far the actor got — its furthest step, the step it
-- dropped off at — and when it did each step of the attempt that got there first. BI lists the
-- groups that dropped off at step k with `dropped_off_at_step = k`. mart_insight_funnel_steps
-- aggregates these rows. Per-funnel SQL comes from macros/insights/funnels.sql, looping over the
-- declared FunnelsQuery insights; the semantics are described there and in the README.
{%- set insights = gw_insights('FunnelsQuery') %}
{%- set max_steps = gw_insight_funnel_max_steps(insights) %}

with

events as (

    select * from {{ ref('fct_events') }}

),

insights as (

    select * from {{ ref('mart_insights') }}

),
{{- gw_insight_dimension_imports(insights) }}

funnels as (
    {{ gw_insight_funnel_rows(insights) }}
),

{%- for insight in insights %}
    {{ gw_insight_funnel_actor_ctes(insight, 'insight_' ~ loop.index, max_steps) }}
{%- endfor %}

unioned as (

    {%- for insight in insights %}
        select * from insight_{{ loop.index }}_final
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
    {%- if not insights %}
    select
        cast(null as {{ dbt.type_string() }}) as insight_id,
        cast(null as bigint) as project_id,
        cast(null as {{ dbt.type_string() }}) as actor_type,
        cast(null as integer) as group_type_index,
        cast(null as {{ dbt.type_string() }}) as actor_id,
        cast(null as {{ dbt.type_string() }}) as breakdown_property_value,
        cast(null as integer) as furthest_step,
        {%- for j in range(1, max_steps + 1) %}
        cast(null as timestamp) as step_{{ j }}_at{% if not loop.last %},{% endif %}
        {%- endfor %}
    from insights
    where false
    {%- endif %}

),

value_counts as (

    -- how many actors of each breakdown value stopped at each step
    select
        insight_id,
        project_id,
        breakdown_property_value,
        {%- for j in range(1, max_steps + 1) %}
            count(case when furthest_step = {{ j }} then 1 end) as stopped_at_step_{{ j }}
            {%- if not loop.last %},{% endif %}
        {%- endfor %}

    from unioned
    group by insight_id, project_id, breakdown_property_value

),

value_ranks as (

    -- PostHog orders breakdown values by the actors that got furthest (last step first) and
    -- keeps the first `breakdown_limit` of them; ties by value
    select
        insight_id,
        project_id,
        breakdown_property_value,
        -- bigint on every engine (Spark's row_number is an int)
        cast(row_number() over (
            partition by insight_id, project_id
            order by
                {%- for j in range(max_steps, 0, -1) %}
                    stopped_at_step_{{ j }} desc,
                {%- endfor %}
                breakdown_property_value
        ) as bigint) as breakdown_rank

    from value_counts

),

final as (

    select
        -- keys
        unioned.insight_id,
        unioned.project_id,
        unioned.breakdown_property_value,
        unioned.actor_id,

        -- attributes
        unioned.actor_type,
        cast(unioned.group_type_index as integer) as group_type_index,
        case
            when not funnels.has_breakdown then cast(null as {{ dbt.type_string() }})
            when value_ranks.breakdown_rank <= funnels.breakdown_limit then unioned.breakdown_property_value
            else '{{ gw_insight_breakdown_other_label() }}'
        end as breakdown_value,
        case when funnels.has_breakdown then value_ranks.breakdown_rank end as breakdown_rank,
        funnels.funnel_order_type,
        cast(funnels.step_count as integer) as step_count,
        cast(unioned.furthest_step as integer) as furthest_step,
        unioned.furthest_step = funnels.step_count as is_converted,
        cast(
            case when unioned.furthest_step < funnels.step_count then unioned.furthest_step + 1 end as integer
        ) as dropped_off_at_step,

        -- timestamps (UTC) of the steps of the credited attempt
        cast(
            {{ gw_insight_funnel_step_timestamps('unioned', max_steps) }} as {{ gw_type_timestamp_array() }}
        ) as step_timestamps,
        unioned.step_1_at as first_step_at,
        {{ gw_insight_funnel_furthest_timestamp('unioned', max_steps) }} as furthest_step_at

    from unioned
    inner join funnels
        on unioned.insight_id = funnels.insight_id
    inner join value_ranks
        on
            unioned.insight_id = value_ranks.insight_id
            and unioned.project_id = value_ranks.project_id
            and coalesce(unioned.breakdown_property_value, '') = coalesce(value_ranks.breakdown_property_value, '')
    where not (funnels.hides_other and value_ranks.breakdown_rank > funnels.breakdown_limit)

)

select * from final
