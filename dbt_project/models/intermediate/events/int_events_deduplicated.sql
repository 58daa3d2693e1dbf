-- One row per (project_id, event_uuid): the first landed copy of every event
-- (int_events_first_copies) with the group deletion requests applied (docs/groups.md):
--   * a `$groupidentify` of a deleted group is dropped: it is the group's property history;
--   * an event that carries a deleted group in `$groups` is detached from it (var
--     group_deletion_events = 'detach', the default: the type's member is removed from `groups`
--     and from `properties.$groups`, the event stays) or dropped (= 'remove').
-- Every model downstream reads its events from here, so a deleted group leaves no trace in them.
{%- set deletion_mode = var('group_deletion_events') %}
{%- if deletion_mode not in ('detach', 'remove') %}
    {{ exceptions.raise_compiler_error(
        "var group_deletion_events must be 'detach' or 'remove', got '" ~ deletion_mode ~ "'"
    ) }}
{%- endif %}
with

events as (

    select * from {{ ref('int_events_first_copies') }}

),

deletion_matches as (

    select * from {{ ref('int_group_deletion_matches') }}

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
