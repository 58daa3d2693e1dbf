-- Funnel invariant: along a funnel the number of actors never grows, and a step's drop-off is the
-- previous count minus its own. Returns the offending rows. (One parent only: under per-model
-- Cosmos tasks a test with two parents could run before its second parent exists.)
with

steps as (

    select * from {{ ref('mart_insight_funnel_steps') }}

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

final as (

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

)

select * from final
