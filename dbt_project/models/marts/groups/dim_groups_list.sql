-- PostHog's groups list: one row per group that has properties (dim_groups where
-- has_properties), most recently created first within each type when ordered by
-- list_position. Groups only seen on events, or identified with no property, are not listed.
with

groups_dimension as (

    select * from {{ ref('dim_groups') }}

),

final as (

    select
        -- keys
        project_id,
        group_type_index,
        group_type,
        group_key,

        -- attributes
        display_name,
        properties,
        -- bigint on every engine (Spark's row_number is an int)
        cast(row_number() over (
            partition by project_id, group_type_index
            order by created_at desc, group_key asc
        ) as bigint) as list_position,

        -- timestamps
        created_at,
        last_event_at,

        -- measures
        event_count

    from groups_dimension
    where has_properties

)

select * from final
