{{ config(
    materialized='incremental',
    incremental_strategy='gw_replace',
    unique_key=['project_id', 'event_uuid'],
    on_schema_change='fail',
    meta={'incremental': {'fingerprint': ['deletions']}},
    post_hook="{{ gw_incremental_save_state(this) }}",
) }}
-- One row per (project_id, event_uuid): the first landed copy of every event
-- (gw_first_landed_copies) with the group deletion requests applied (docs/groups.md):
--   * a `$groupidentify` of a deleted group is dropped: it is the group's property history;
--   * an event that carries a deleted group in `$groups` is detached from it (var
--     group_deletion_events = 'detach', the default: the type's member is removed from `groups`
--     and from `properties.$groups`, the event stays) or dropped (= 'remove').
-- Every model downstream reads its events from here, so a deleted group leaves no trace in them.
--
-- Incremental (docs/incremental.md). unique_key: (project_id, event_uuid).
-- Lookback: re-reads the lake rows LOADED within var incremental_lookback_days (default 7) before
-- the newest loaded_at of the last build; a copy whose uuid is already stored from an earlier
-- load is a re-sent duplicate and is skipped, so the first landed copy still wins.
-- Late-event policy: selection is by load time only, so an event is taken however old its
-- timestamp is. Deletions: the state's fingerprint covers the deletion requests and
-- var group_deletion_events; when they change (a deletion, or a request removed again) the run
-- recomputes every event from the lake and replaces the table (strategy gw_replace).
-- depends_on: {{ ref('stg_warehouse__group_deletions') }}
{%- set window = gw_incremental_window(this) %}
{%- set deletion_mode = var('group_deletion_events') %}
{%- if deletion_mode not in ('detach', 'remove') %}
    {{ exceptions.raise_compiler_error(
        "var group_deletion_events must be 'detach' or 'remove', got '" ~ deletion_mode ~ "'"
    ) }}
{%- endif %}
with

lake_events as (

    select * from {{ ref('stg_lake__events') }}
    {%- if window.filtered %}
        where loaded_at >= {{ window.cutoff }}
    {%- endif %}

),

deletion_matches as (

    select * from {{ ref('int_group_deletion_matches') }}

),

first_copies as (

    {{ gw_first_landed_copies('lake_events') }}

),

stored_earlier as (

    -- events whose kept copy was loaded before the window: a copy in the window is a re-send
    -- (none on a full build)
    select
        project_id,
        event_uuid
    {%- if window.filtered %}
        from {{ this }}
        where loaded_at < {{ window.cutoff }}
    {%- else %}
        from first_copies
        where false
    {%- endif %}

),

events as (

    select first_copies.*
    from first_copies
    left join stored_earlier
        on
            first_copies.project_id = stored_earlier.project_id
            and first_copies.event_uuid = stored_earlier.event_uuid
    where stored_earlier.event_uuid is null

),

removed_events as (

    select distinct
        project_id,
        event_uuid

    from deletion_matches
    {%- if deletion_mode == 'remove' %}
        where match_kind in ('group_identify', 'event')
    {%- else %}
        where match_kind = 'group_identify'
    {%- endif %}

),

detach_patches as (

    -- a JSON merge patch per event, e.g. {"company":null}: removes the detached types' members
    select
        project_id,
        event_uuid,
        {{ gw_json_object_agg('group_type', "'null'") }} as groups_patch

    from deletion_matches
    where match_kind = 'event'
    group by project_id, event_uuid

),

final as (

    select
        events.event_uuid,
        events.project_id,
        events.event_name,
        events.distinct_id,
        case
            when
                detach_patches.groups_patch is not null
                and {{ gw_json_has_key('events.properties', '$groups') }}
                then {{ gw_json_merge_patch(
                    'events.properties',
                    "'{\"$groups\":' || detach_patches.groups_patch || '}'"
                ) }}
            else events.properties
        end as properties,
        case
            when detach_patches.groups_patch is not null
                then {{ gw_json_merge_patch('events.groups', 'detach_patches.groups_patch') }}
            else events.groups
        end as groups,
        events.person_set,
        events.person_set_once,
        events.identified_group_type,
        events.identified_group_key,
        events.identified_group_set,
        events.event_at,
        events.sent_at,
        events.received_at,
        events.source_hash,
        events.source_name,
        events.source_row,
        events.loaded_at

    from events
    left join removed_events
        on
            events.project_id = removed_events.project_id
            and events.event_uuid = removed_events.event_uuid
    left join detach_patches
        on
            events.project_id = detach_patches.project_id
            and events.event_uuid = detach_patches.event_uuid
    where removed_events.event_uuid is null

)

select * from final
