-- "Related groups" of a group page: one row per (group, group of another type) that appeared
-- together on at least one event, in both directions (A → B and B → A), with how many events they
-- shared and when. An event holds at most one group per type, so a group is never related to
-- another of its own type through an event.
with

event_groups as (

    select * from {{ ref('fct_event_groups') }}

),

final as (

    select
        -- keys
        event_groups.project_id,
        event_groups.group_type_index,
        event_groups.group_key,
        related_groups.group_type_index as related_group_type_index,
        related_groups.group_key as related_group_key,

        -- attributes
        min(event_groups.group_type) as group_type,
        min(related_groups.group_type) as related_group_type,

        -- timestamps
        min(event_groups.event_at) as first_shared_at,
        max(event_groups.event_at) as last_shared_at,

        -- measures
        count(*) as shared_events

    from event_groups
    inner join event_groups as related_groups
        on
            event_groups.project_id = related_groups.project_id
            and event_groups.event_uuid = related_groups.event_uuid
            and event_groups.group_type_index <> related_groups.group_type_index
    group by
        event_groups.project_id,
        event_groups.group_type_index,
        event_groups.group_key,
        related_groups.group_type_index,
        related_groups.group_key

)

select * from final
