-- One row per funnel insight, project, breakdown value and step: the numbers of PostHog's funnel
-- chart — how many actors reached the step, the conversion from the previous and from the first
-- step, and the average and median time from the previous step (null when nobody reached it).
-- Every step is present (zeros where nobody got there); without a breakdown every project gets
-- its line. Aggregates mart_insight_funnel_actors.
{%- set insights = gw_insights('FunnelsQuery') %}
{%- set max_steps = gw_insight_funnel_max_steps(insights) %}

with

actors as (

    select * from {{ ref('mart_insight_funnel_actors') }}

),

insights as (

    select * from {{ ref('mart_insights') }}

),

funnels as (
    {{ gw_insight_funnel_rows(insights) }}
),

steps as (
    {{ gw_insight_funnel_step_rows(insights) }}
),

lines as (

    -- the breakdown values shown ("Other" ranks after the values it holds)
    select
        insight_id,
        project_id,
        breakdown_value,
        min(breakdown_rank) as breakdown_rank
    from actors
    group by insight_id, project_id, breakdown_value

    union

    -- without a breakdown every project has its funnel, even when nobody entered it
    select
        funnels.insight_id,
        insights.project_id,
        cast(null as {{ dbt.type_string() }}) as breakdown_value,
        cast(null as bigint) as breakdown_rank
    from funnels
    inner join insights
        on funnels.insight_id = insights.insight_id
    where not funnels.has_breakdown

),

reached as (

    -- one row per actor and step it reached, with the time it took from the previous step
    {%- for j in range(1, max_steps + 1) %}
        select
            insight_id,
            project_id,
            breakdown_value,
            {{ j }} as step_number,
            {%- if j == 1 %}
                cast(null as double) as conversion_seconds,
                cast(null as bigint) as conversion_microseconds
            {%- else %}
                {{ gw_seconds_between(
                    gw_array_element('step_timestamps', j - 1), gw_array_element('step_timestamps', j)
                ) }} as conversion_seconds,
                {{ gw_epoch_microseconds(gw_array_element('step_timestamps', j)) }}
                - {{ gw_epoch_microseconds(gw_array_element('step_timestamps', j - 1)) }}
                    as conversion_microseconds
            {%- endif %}
        from actors
        where furthest_step >= {{ j }}
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}

),

step_stats as (

    select
        insight_id,
        project_id,
        breakdown_value,
        step_number,
        count(*) as actor_count,
        -- an exact integer sum, then one division: a float avg's result would depend on the order
        -- the threads add in, so two builds of the same rows could differ in the last digit
        cast(sum(conversion_microseconds) as double)
        / count(conversion_microseconds)
        / 1000000.0 as average_conversion_seconds,
        {{ gw_median('conversion_seconds') }} as median_conversion_seconds

    from reached
    group by insight_id, project_id, breakdown_value, step_number

),

counted as (

    select
        lines.insight_id,
        lines.project_id,
        lines.breakdown_value,
        lines.breakdown_rank,
        steps.step_number,
        steps.step_name,
        steps.step_event,
        steps.step_custom_name,
        coalesce(step_stats.actor_count, 0) as actor_count,
        step_stats.average_conversion_seconds,
        step_stats.median_conversion_seconds

    from lines
    inner join steps
        on lines.insight_id = steps.insight_id
    left join step_stats
        on
            lines.insight_id = step_stats.insight_id
            and lines.project_id = step_stats.project_id
            and coalesce(lines.breakdown_value, '') = coalesce(step_stats.breakdown_value, '')
            and steps.step_number = step_stats.step_number

),

compared as (

    select
        counted.*,
        lag(counted.actor_count) over (
            partition by counted.insight_id, counted.project_id, counted.breakdown_value
            order by counted.step_number
        ) as previous_actor_count,
        first_value(counted.actor_count) over (
            partition by counted.insight_id, counted.project_id, counted.breakdown_value
            order by counted.step_number
            rows between unbounded preceding and unbounded following
        ) as first_actor_count

    from counted

),

final as (

    select
        -- keys
        compared.insight_id,
        compared.project_id,
        compared.breakdown_value,
        cast(compared.step_number as integer) as step_number,

        -- attributes
        compared.step_name,
        compared.step_event,
        compared.step_custom_name,
        funnels.funnel_order_type,
        funnels.actor_type,
        cast(funnels.group_type_index as integer) as group_type_index,
        cast(funnels.step_count as integer) as step_count,
        cast(funnels.window_seconds as bigint) as window_seconds,
        cast(compared.breakdown_rank as bigint) as breakdown_rank,

        -- measures
        cast(compared.actor_count as bigint) as actor_count,
        cast(coalesce(compared.previous_actor_count - compared.actor_count, 0) as bigint) as dropped_off_count,
        cast(compared.actor_count as double)
        / nullif(coalesce(compared.previous_actor_count, compared.actor_count), 0) as conversion_rate_from_previous,
        cast(compared.actor_count as double) / nullif(compared.first_actor_count, 0) as conversion_rate_from_first,
        cast(compared.average_conversion_seconds as double) as average_conversion_seconds,
        cast(compared.median_conversion_seconds as double) as median_conversion_seconds

    from compared
    inner join funnels
        on compared.insight_id = funnels.insight_id

)

select * from final
