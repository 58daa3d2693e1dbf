-- "Related people" of a group page: one row per (group, person) with the events the person sent
-- that carried the group, and when. Group-only distinct ids are no one's and never appear.
with

event_groups as (

    select * from {{ ref('fct_event_groups') }}

),

events as (

    select * from {{ ref('fct_events') }}

),

final as (

    select
        -- keys
        event_groups.project_id,
        event_groups.group_type_index,
        event_groups.group_key,
        events.person_id,

        -- attributes
        min(event_groups.group_type) as group_type,

        -- timestamps
        min(events.timestamp) as first_seen_at,
        max(events.timestamp) as last_seen_at,

        -- measures
        count(*) as events

    from event_groups
    inner join events
        on
            event_groups.project_id = events.project_id
            and event_groups.event_uuid = events.event_uuid
    where events.person_id is not null
    group by
        event_groups.project_id,
        event_groups.group_type_index,
        event_groups.group_key,
        events.person_id

)

select * from final
