-- Funnel invariants: along a funnel the number of actors never grows, a step's drop-off is the
-- previous count minus its own, and no actor gets further than the funnel's last step.
-- Returns the offending rows.
with

steps as (

    select * from {{ ref('mart_insight_funnel_steps') }}

),

actors as (

    select * from {{ ref('mart_insight_funnel_actors') }}

),

compared as (

    select
        insight_id,
        project_id,
        breakdown_value,
        step_number,
        actor_count,
        dropped_off_count,
        lag(actor_count) over (
            partition by insight_id, project_id, breakdown_value
            order by step_number
        ) as previous_actor_count

    from steps

),

growing_steps as (

    select
        insight_id,
        project_id,
        breakdown_value,
        step_number,
        'count grows or drop-off is wrong' as problem
    from compared
    where
        previous_actor_count < actor_count
        or dropped_off_count <> coalesce(previous_actor_count - actor_count, 0)

),

overshooting_actors as (

    select
        insight_id,
        project_id,
        breakdown_value,
        furthest_step as step_number,
        'an actor beyond the last step' as problem
    from actors
    where furthest_step > step_count

),

final as (

    select * from growing_steps
    union all
    select * from overshooting_actors

)

select * from final
