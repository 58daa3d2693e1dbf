{{ config(
    materialized='incremental',
    incremental_strategy='gw_replace',
    unique_key=['project_id', 'event_uuid'],
    on_schema_change='fail',
    meta={'incremental': {'fingerprint': ['deletions', 'group_types'], 'loaded_at_from': 'int_event_group_keys'}},
    post_hook="{{ gw_incremental_save_state(this) }}",
) }}
-- One row per (event, group type index): the long bridge between events and the groups they
-- belong to, for BI tools that join events to groups. Only types within the five-type limit and
-- non-empty keys appear.
--
-- Incremental (docs/incremental.md). unique_key: (project_id, event_uuid), coarser than the row
-- grain: every bridge row of a recomputed event is replaced.
-- Lookback: the events LOADED within var incremental_lookback_days before the newest loaded_at
-- of int_event_group_keys at the last build.
-- Late-event policy: by load time only, so late events are taken whatever their timestamp.
-- An event's groups change only through group deletions and the type mapping: both are in the
-- fingerprint, and a change recomputes and replaces the whole table.
-- depends_on: {{ ref('stg_warehouse__group_deletions') }}
{%- set window = gw_incremental_window(this) %}
with

event_group_keys as (

    select * from {{ ref('int_event_group_keys') }}
    {%- if window.filtered %}
        where loaded_at >= {{ window.cutoff }}
    {%- endif %}

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
