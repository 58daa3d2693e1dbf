-- One row per (project, group type) that arrived after the project already had five types. Its
-- events are kept, but this group is not attached to them; the audit surfaces every row here.
with

group_types as (

    select * from {{ ref('int_group_types_indexed') }}

),

final as (

    select
        project_id,
        group_type,
        first_seen_at,
        last_seen_at,
        events_affected

    from group_types
    where group_type_index is null

)

select * from final
