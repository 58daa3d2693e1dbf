-- One row per identified group (project, type, key) with its current properties folded from its
-- `$groupidentify` history. Updates apply in event-time order with ties broken by landing order
-- (loaded_at, source_name, source_row) and then uuid, so an older update that lands late never
-- overwrites a newer value, while its keys that nothing newer touched still apply.
--   merge (default): each property takes the value of the last update that sent it.
--   overwrite (var group_property_mode = 'overwrite'): the last update's `$group_set` replaces all.
with

group_identifies as (

    select * from {{ ref('int_group_identifies') }}

),

{% if var('group_property_mode') == 'overwrite' %}

ranked_updates as (

    select
        *,
        row_number() over (
            partition by project_id, group_type, group_key
            order by event_at desc, loaded_at desc, source_name desc, source_row desc, event_uuid desc
        ) as recency_rank

    from group_identifies

),

final as (

    select
        project_id,
        group_type,
        group_key,
        cast(group_set as varchar) as properties,
        event_at as properties_updated_at

    from ranked_updates
    where recency_rank = 1

)

{% elif var('group_property_mode') == 'merge' %}

    property_entries as (

        select
            project_id,
            group_type,
            group_key,
            event_uuid,
            event_at,
            loaded_at,
            source_name,
            source_row,
            {{ gw_json_object_entries('group_set', 'json') }} as property_entry

        from group_identifies

    ),

    property_updates as (

        select
            property_entries.project_id,
            property_entries.group_type,
            property_entries.group_key,
            property_entry.key as property_key,
            coalesce(property_entry.value, 'null') as property_value,
            property_entries.event_at,
            row_number() over (
                partition by
                    property_entries.project_id,
                    property_entries.group_type,
                    property_entries.group_key,
                    property_entry.key
                order by
                    property_entries.event_at desc,
                    property_entries.loaded_at desc,
                    property_entries.source_name desc,
                    property_entries.source_row desc,
                    property_entries.event_uuid desc
            ) as recency_rank

        from property_entries

    ),

    identified_groups as (

        select
            project_id,
            group_type,
            group_key,
            max(event_at) as properties_updated_at

        from group_identifies
        group by project_id, group_type, group_key

    ),

    folded as (

        select
            project_id,
            group_type,
            group_key,
            {{ gw_json_object_agg('property_key', 'property_value') }} as properties

        from property_updates
        where recency_rank = 1
        group by project_id, group_type, group_key

    ),

    final as (

        select
            identified_groups.project_id,
            identified_groups.group_type,
            identified_groups.group_key,
            coalesce(folded.properties, '{}') as properties,
            identified_groups.properties_updated_at

        from identified_groups
        left join folded
            on
                identified_groups.project_id = folded.project_id
                and identified_groups.group_type = folded.group_type
                and identified_groups.group_key = folded.group_key

    )

{% else %}
    {{ exceptions.raise_compiler_error(
        "var group_property_mode must be 'merge' or 'overwrite', got '" ~ var('group_property_mode') ~ "'"
    ) }}
{% endif %}

select * from final
