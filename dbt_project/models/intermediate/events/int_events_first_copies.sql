{{ config(materialized='ephemeral') }}
-- One row per (project_id, event_uuid): clients resend whole batches on retry, so the lake can
-- hold several copies of one event. The first landed copy wins (landing order: loaded_at,
-- source_name, source_row), which is deterministic and never depends on the wall clock
-- (macro gw_first_landed_copies, shared with int_events_deduplicated's incremental runs).
-- Ephemeral on purpose: these rows still hold deleted groups, so they are never stored; they
-- feed int_events_deduplicated (which applies group deletions) and the group type sightings
-- (which must see every landed event so that a deletion never moves a type's index).
with

events as (

    select * from {{ ref('stg_lake__events') }}

),

final as (

    {{ gw_first_landed_copies('events') }}

)

select * from final
