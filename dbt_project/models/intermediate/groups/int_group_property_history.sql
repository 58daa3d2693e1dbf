-- One row per identified group (project, type, key) and property version: the group's properties
-- after each of its `$groupidentify` updates, as an SCD2 history (valid_from, valid_to,
-- is_current). Updates apply in event-time order with ties broken by landing order (loaded_at,
-- source_name, source_row) and then uuid: version n is the fold of the first n updates, so an
-- older update that lands late takes its place in the middle of the history, and every later
-- version keeps its keys that nothing newer sent.
--   merge (var group_property_mode, default): each property takes the value of the last update
--     up to this version that sent it (a key repeated within one `$group_set`: the last wins).
--   overwrite: a version holds exactly what its own update sent (PostHog's 2021 alpha).
-- A version is valid from its update's event time (inclusive) to the next version's (exclusive);
-- two updates with the same event time give a version valid for no time at all.
{%- set property_mode = var('group_property_mode') %}
{%- if property_mode not in ('merge', 'overwrite') %}
    {{ exceptions.raise_compiler_error(
        "var group_property_mode must be 'merge' or 'overwrite', got '" ~ property_mode ~ "'"
    ) }}
{%- endif %}
with

group_identifies as (

    select * from {{ ref('int_group_identifies') }}

),

versions as (

    select
        project_id,
        group_type,
        group_key,
        event_uuid,
        group_set,
        event_at,
        -- bigint on every engine (Spark's row_number is an int)
        cast(row_number() over (
            partition by project_id, group_type, group_key
            order by event_at, loaded_at, source_name, source_row, event_uuid
        ) as bigint) as property_version

    from group_identifies

),

versions_bounded as (

    select
        *,
        lead(event_at) over (
            partition by project_id, group_type, group_key
            order by property_version
        ) as next_version_at

    from versions

),

property_entries as (

    select
        versions.project_id,
        versions.group_type,
        versions.group_key,
        versions.property_version,
        property_entry.key as property_key,
        property_entry.value as property_value,
        property_entry.id as entry_position

    from versions
    cross join {{ gw_json_each('versions.group_set') }} as property_entry
    where versions.group_set <> '{}' and property_entry.key is not null

),

property_spans as (

    -- each value lives from its version until the next entry for the same key replaces it
    select
        *,
        lead(property_version) over (
            partition by project_id, group_type, group_key, property_key
            order by property_version, entry_position
        ) as replaced_in_version

    from property_entries

),

version_properties as (

    select
        versions.project_id,
        versions.group_type,
        versions.group_key,
        versions.property_version,
        {{ gw_json_object_agg('property_spans.property_key', 'property_spans.property_value') }}
            as properties

    from versions
    inner join property_spans
        on
            versions.project_id = property_spans.project_id
            and versions.group_type = property_spans.group_type
            and versions.group_key = property_spans.group_key
            {%- if property_mode == 'merge' %}
                and versions.property_version >= property_spans.property_version
            {%- else %}
                and versions.property_version = property_spans.property_version
            {%- endif %}
            and (
                property_spans.replaced_in_version is null
                or versions.property_version < property_spans.replaced_in_version
            )
    group by
        versions.project_id,
        versions.group_type,
        versions.group_key,
        versions.property_version

),

final as (

    select
        -- keys
        versions_bounded.project_id,
        versions_bounded.group_type,
        versions_bounded.group_key,
        versions_bounded.property_version,

        -- attributes
        coalesce(version_properties.properties, '{}') as properties,
        versions_bounded.group_set as update_set,
        versions_bounded.event_uuid as update_event_uuid,

        -- validity (UTC)
        versions_bounded.event_at as valid_from,
        versions_bounded.next_version_at as valid_to,
        versions_bounded.next_version_at is null as is_current

    from versions_bounded
    left join version_properties
        on
            versions_bounded.project_id = version_properties.project_id
            and versions_bounded.group_type = version_properties.group_type
            and versions_bounded.group_key = version_properties.group_key
            and versions_bounded.property_version = version_properties.property_version

)

select * from final
