-- One row per (project, distinct id) that belongs to a person, with its person_id: the bridge
-- from events' distinct ids to dim_persons (PostHog's person_distinct_id). Group-only distinct
-- ids have no row (their events' person_id is null).
with

person_distinct_ids as (

    select * from {{ ref('int_person_distinct_ids') }}

),

final as (

    select
        project_id,
        distinct_id,
        person_id

    from person_distinct_ids

)

select * from final
