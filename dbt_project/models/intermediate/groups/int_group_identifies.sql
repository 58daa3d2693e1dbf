-- One row per `$groupidentify` event with a group type and a non-empty key: the updates that
-- group properties are folded from. `$set` / `$set_once` on these events never touch the group
-- (PostHog); `$group_set` absent or not an object counts as `{}`.
with

events as (

    select * from {{ ref('int_events_deduplicated') }}

),

final as (

    select
        project_id,
        event_uuid,
        identified_group_type as group_type,
        identified_group_key as group_key,
        coalesce(identified_group_set, '{}') as group_set,
        distinct_id,
        event_at,
        loaded_at,
        source_name,
        source_row

    from events
    where {{ gw_is_group_identify() }}

)

select * from final
