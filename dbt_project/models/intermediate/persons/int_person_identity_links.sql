-- One row per identity event that links two distinct ids of a project (an edge of the identity
-- graph that int_person_distinct_ids resolves into persons):
--   `$identify`:          the event's distinct id ↔ `properties.$anon_distinct_id`;
--   `$create_alias`:      the event's distinct id ↔ `properties.alias`;
--   `$merge_dangerously`: the event's distinct id ↔ `properties.alias`.
-- Links to an empty id, to itself, or touching a group-only distinct id are ignored: a group-only
-- id never joins a person. Unlike PostHog, an `$identify` of an already identified person merges
-- too (every link merges, as `$merge_dangerously` would), so the result never depends on order.
with

events as (

    select * from {{ ref('int_events_deduplicated') }}

),

group_only_distinct_ids as (

    select * from {{ ref('int_group_only_distinct_ids') }}

),

identity_events as (

    select
        project_id,
        event_uuid,
        event_name as link_event,
        distinct_id,
        case
            when event_name = '$identify'
                then {{ gw_json_text('properties', '$anon_distinct_id') }}
            else {{ gw_json_text('properties', 'alias') }}
        end as linked_distinct_id,
        event_at

    from events
    where event_name in ('$identify', '$create_alias', '$merge_dangerously')

),

final as (

    select
        identity_events.project_id,
        identity_events.event_uuid,
        identity_events.link_event,
        identity_events.distinct_id,
        identity_events.linked_distinct_id,
        identity_events.event_at

    from identity_events
    left join group_only_distinct_ids as group_only_sender
        on
            identity_events.project_id = group_only_sender.project_id
            and identity_events.distinct_id = group_only_sender.distinct_id
    left join group_only_distinct_ids as group_only_linked
        on
            identity_events.project_id = group_only_linked.project_id
            and identity_events.linked_distinct_id = group_only_linked.distinct_id
    where
        identity_events.linked_distinct_id is not null
        and identity_events.linked_distinct_id <> ''
        and identity_events.linked_distinct_id <> identity_events.distinct_id
        and group_only_sender.distinct_id is null
        and group_only_linked.distinct_id is null

)

select * from final
