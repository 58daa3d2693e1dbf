-- One row per group and property version (SCD2): the group's properties after each of its
-- `$groupidentify` updates, valid from the update's event time (inclusive) to the next version's
-- (exclusive); the last version is current and equals dim_groups.properties. For types within
-- the five-type limit. To read a group's properties as of an event, use
-- fct_event_group_properties (the one documented way), which joins this history on time.
with

property_history as (

    select * from {{ ref('int_group_property_history') }}

),

group_types as (

    select * from {{ ref('dim_group_types') }}

),

final as (

    select
        -- keys
        property_history.project_id,
        group_types.group_type_index,
        property_history.group_type,
        property_history.group_key,
        property_history.property_version,

        -- attributes
        coalesce(
            {{ gw_json_text('property_history.properties', 'name') }},
            property_history.group_key
        ) as display_name,
        property_history.properties,
        property_history.update_set,
        property_history.update_event_uuid,

        -- validity (UTC)
        property_history.valid_from,
        property_history.valid_to,
        property_history.is_current

    from property_history
    inner join group_types
        on
            property_history.project_id = group_types.project_id
            and property_history.group_type = group_types.group_type

)

select * from final
