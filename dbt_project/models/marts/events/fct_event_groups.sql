-- One row per (event, group type index): the long bridge between events and the groups they
-- belong to, for BI tools that join events to groups. Only types within the five-type limit and
-- non-empty keys appear.
with

event_group_keys as (

    select * from {{ ref('int_event_group_keys') }}

),

group_types as (

    select * from {{ ref('dim_group_types') }}

),

final as (

    select
        event_group_keys.project_id,
        event_group_keys.event_uuid,
        group_types.group_type_index,
        event_group_keys.group_type,
        event_group_keys.group_key,
        event_group_keys.event_at

    from event_group_keys
    inner join group_types
        on
            event_group_keys.project_id = group_types.project_id
            and event_group_keys.group_type = group_types.group_type

)

select * from final
