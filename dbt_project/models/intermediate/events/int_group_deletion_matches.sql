-- One row per (event, group type) that a group deletion request reaches, among the first landed
-- copies of events: the event carries the deleted group in `$groups` (match_kind 'event', the
-- event is detached from it or removed, var group_deletion_events) or is a `$groupidentify` of
-- the deleted group (match_kind 'group_identify', always removed: it is the group's property
-- history). No group key is stored here: `deletion_id` is the id of the group's first request.
with

events as (

    select * from {{ ref('int_events_first_copies') }}

),

group_deletions as (

    select * from {{ ref('stg_warehouse__group_deletions') }}

),

projects_with_deletions as (

    select distinct project_id
    from group_deletions

),

candidate_events as (

    -- only projects with a deletion request pay for expanding `$groups` (usually none)
    select events.*
    from events
    inner join projects_with_deletions
        on events.project_id = projects_with_deletions.project_id

),

event_groups as (

    {{ gw_event_group_entries('candidate_events') }}

),

ranked_requests as (

    -- a group asked to be deleted twice is deleted once, under its first request
    select
        project_id,
        group_type,
        group_key,
        request_id,
        row_number() over (
            partition by project_id, group_type, group_key
            order by requested_at, request_id
        ) as request_number

    from group_deletions

),

first_requests as (

    select
        project_id,
        group_type,
        group_key,
        request_id as deletion_id

    from ranked_requests
    where request_number = 1

),

event_matches as (

    select
        event_groups.project_id,
        event_groups.event_uuid,
        event_groups.group_type,
        first_requests.deletion_id,
        'event' as match_kind

    from event_groups
    inner join first_requests
        on
            event_groups.project_id = first_requests.project_id
            and event_groups.group_type = first_requests.group_type
            and event_groups.group_key = first_requests.group_key

),

group_identify_matches as (

    select
        events.project_id,
        events.event_uuid,
        events.identified_group_type as group_type,
        first_requests.deletion_id,
        'group_identify' as match_kind

    from events
    inner join first_requests
        on
            events.project_id = first_requests.project_id
            and events.identified_group_type = first_requests.group_type
            and events.identified_group_key = first_requests.group_key
    where {{ gw_is_group_identify('events') }}

),

final as (

    select * from event_matches
    union all
    select * from group_identify_matches

)

select * from final
