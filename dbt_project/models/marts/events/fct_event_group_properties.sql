-- The one documented way to read a group's properties AS OF an event (docs/groups.md): one row
-- per (event, group type index) of fct_event_groups with the version of the group's property
-- history that was valid at the event's timestamp (valid_from <= timestamp < valid_to). An
-- update with the same timestamp as the event is already applied. When the group had no
-- properties yet at that time (or was never identified), property_version is null and
-- properties is '{}'. Insights use dim_groups for current values (PostHog) and this mart when
-- a breakdown or filter asks for the value at the time of the event.
with

event_groups as (

    select * from {{ ref('fct_event_groups') }}

),

property_history as (

    select * from {{ ref('dim_group_property_history') }}

),

final as (

    select
        -- keys
        event_groups.project_id,
        event_groups.event_uuid,
        event_groups.group_type_index,

        -- foreign keys
        event_groups.group_type,
        event_groups.group_key,
        property_history.property_version,

        -- attributes
        coalesce(property_history.properties, '{}') as properties,

        -- timestamps
        event_groups.event_at

    from event_groups
    left join property_history
        on
            event_groups.project_id = property_history.project_id
            and event_groups.group_type_index = property_history.group_type_index
            and event_groups.group_key = property_history.group_key
            and event_groups.event_at >= property_history.valid_from
            and (property_history.valid_to is null or event_groups.event_at < property_history.valid_to)

)

select * from final
