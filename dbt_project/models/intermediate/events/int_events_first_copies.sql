{{ config(materialized='ephemeral') }}
-- One row per (project_id, event_uuid): clients resend whole batches on retry, so the lake can
-- hold several copies of one event. The first landed copy wins (landing order: loaded_at,
-- source_name, source_row), which is deterministic and never depends on the wall clock.
-- Ephemeral on purpose: these rows still hold deleted groups, so they are never stored; they
-- feed int_events_deduplicated (which applies group deletions) and the group type sightings
-- (which must see every landed event so that a deletion never moves a type's index).
with

events as (

    select * from {{ ref('stg_lake__events') }}

),

ranked as (

    select
        *,
        row_number() over (
            partition by project_id, event_uuid
            order by loaded_at, source_name, source_row
        ) as copy_number

    from events

),

final as (

    select
        event_uuid,
        project_id,
        event_name,
        distinct_id,
        properties,
        groups,
        person_set,
        person_set_once,
        identified_group_type,
        identified_group_key,
        identified_group_set,
        event_at,
        sent_at,
        received_at,
        source_hash,
        source_name,
        source_row,
        loaded_at

    from ranked
    where copy_number = 1

)

select * from final
