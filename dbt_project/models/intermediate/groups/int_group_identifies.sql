-- One row per `$groupidentify` event with a group type and a non-empty key: the updates that
-- group properties are folded from. `$set` / `$set_once` on these events are ignored (PostHog).
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
        event_at,
        loaded_at,
        source_name,
        source_row

    from events
    where
        event_name = '$groupidentify'
        and identified_group_type is not null
        and identified_group_type <> ''
        and identified_group_key is not null
        and identified_group_key <> ''

)

select * from final
