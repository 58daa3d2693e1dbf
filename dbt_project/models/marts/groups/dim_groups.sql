-- One row per group (project, group type, group key) seen on an event or identified, for types
-- that hold an index. Properties are the current fold of `$groupidentify` updates (see
-- int_group_properties_current); groups only seen on events have `{}` and has_properties = false
-- (PostHog's groups list shows only groups with properties: dim_groups_list). A deleted group
-- is absent: its events no longer carry it and its updates are gone (int_events_deduplicated).
with

group_types as (

    select * from {{ ref('dim_group_types') }}

),

event_group_keys as (

    select * from {{ ref('int_event_group_keys') }}

),

group_identifies as (

    select * from {{ ref('int_group_identifies') }}

),

current_properties as (

    select * from {{ ref('int_group_properties_current') }}

),

event_activity as (

    select
        project_id,
        group_type,
        group_key,
        min(event_at) as first_event_at,
        max(event_at) as last_event_at,
        count(*) as event_count

    from event_group_keys
    group by project_id, group_type, group_key

),

identify_activity as (

    select
        project_id,
        group_type,
        group_key,
        min(event_at) as first_identified_at

    from group_identifies
    group by project_id, group_type, group_key

),

all_groups as (

    select
        project_id,
        group_type,
        group_key
    from event_activity
    union
    select
        project_id,
        group_type,
        group_key
    from identify_activity

),

final as (

    select
        -- keys
        all_groups.project_id,
        all_groups.group_type,
        group_types.group_type_index,
        all_groups.group_key,

        -- attributes
        coalesce(
            {{ gw_json_text('current_properties.properties', 'name') }},
            all_groups.group_key
        ) as display_name,
        coalesce(current_properties.properties, '{}') as properties,
        coalesce(current_properties.properties, '{}') <> '{}' as has_properties,
        identify_activity.first_identified_at is not null as is_identified,

        -- timestamps
        -- first sighting, on an event or an identify (least() skips nulls)
        least(event_activity.first_event_at, identify_activity.first_identified_at) as created_at,
        event_activity.first_event_at,
        event_activity.last_event_at,
        current_properties.properties_updated_at,

        -- measures
        coalesce(event_activity.event_count, 0) as event_count

    from all_groups
    inner join group_types
        on
            all_groups.project_id = group_types.project_id
            and all_groups.group_type = group_types.group_type
    left join event_activity
        on
            all_groups.project_id = event_activity.project_id
            and all_groups.group_type = event_activity.group_type
            and all_groups.group_key = event_activity.group_key
    left join identify_activity
        on
            all_groups.project_id = identify_activity.project_id
            and all_groups.group_type = identify_activity.group_type
            and all_groups.group_key = identify_activity.group_key
    left join current_properties
        on
            all_groups.project_id = current_properties.project_id
            and all_groups.group_type = current_properties.group_type
            and all_groups.group_key = current_properties.group_key

)

select * from final
