-- One row per group of dim_groups: when it was created (its first sighting, on an event or a
-- `$groupidentify`) as a UTC instant and as a day in its project's time zone — the day on which
-- PostHog's lifecycle counts it as "new". The semantic layer's `new_groups` metric counts these
-- rows by `created_date`.
with

groups as (

    select * from {{ ref('dim_groups') }}

),

projects as (

    select * from {{ ref('stg_lake__projects') }}

),

final as (

    select
        -- keys
        groups.project_id,
        groups.group_type_index,
        groups.group_key,

        -- attributes
        groups.group_type,
        groups.has_properties,
        groups.is_identified,

        -- timestamps
        groups.created_at,
        cast(
            {{ gw_to_local_timestamp('groups.created_at', 'projects.project_timezone') }} as date
        ) as created_date

    from groups
    inner join projects
        on groups.project_id = projects.project_id

)

select * from final
