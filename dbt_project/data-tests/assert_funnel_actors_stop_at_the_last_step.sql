-- Funnel invariant: no actor gets further than the funnel's last step. Returns the offending rows.
with

actors as (

    select * from {{ ref('mart_insight_funnel_actors') }}

),

final as (

    select
        insight_id,
        project_id,
        breakdown_value,
        furthest_step,
        step_count
    from actors
    where furthest_step > step_count

)

select * from final
