-- One row per (project, group type): its index 0–4, or null when the project already had five
-- types (the type is then over the limit: its groups are never attached to events).
-- Rule (PostHog's): declared types keep their declared index; every other type takes the lowest
-- free index in order of first sighting (landing order; within one event, the order `$groups`
-- lists its types, then `$group_type`). Indices never move: landing order is persisted and only
-- grows, and sightings include the events of deleted groups.
with

sightings as (

    select * from {{ ref('int_group_type_sightings') }}

),

declarations as (

    select * from {{ ref('group_type_declarations') }}

),

type_indexes as (

    -- the five slots a project has
    select 0 as group_type_index
    union all
    select 1
    union all
    select 2
    union all
    select 3
    union all
    select 4

),

projects as (

    select project_id from sightings
    union
    select project_id from declarations

),

free_indexes as (

    select
        projects.project_id,
        type_indexes.group_type_index,
        row_number() over (
            partition by projects.project_id
            order by type_indexes.group_type_index
        ) as free_rank

    from projects
    cross join type_indexes
    left join declarations
        on
            projects.project_id = declarations.project_id
            and type_indexes.group_type_index = declarations.group_type_index
    where declarations.group_type is null

),

undeclared as (

    select
        sightings.*,
        row_number() over (
            partition by sightings.project_id
            order by
                sightings.first_loaded_at,
                sightings.first_source_name,
                sightings.first_source_row,
                sightings.first_sighting_kind,
                sightings.first_group_position
        ) as undeclared_rank

    from sightings
    left join declarations
        on
            sightings.project_id = declarations.project_id
            and sightings.group_type = declarations.group_type
    where declarations.group_type is null

),

declared_types as (

    select
        declarations.project_id,
        declarations.group_type,
        declarations.group_type_index,
        declarations.name_singular,
        declarations.name_plural,
        true as is_declared,
        sightings.first_seen_at,
        sightings.last_seen_at,
        coalesce(sightings.events_affected, 0) as events_affected

    from declarations
    left join sightings
        on
            declarations.project_id = sightings.project_id
            and declarations.group_type = sightings.group_type

),

discovered_types as (

    select
        undeclared.project_id,
        undeclared.group_type,
        free_indexes.group_type_index,
        undeclared.group_type as name_singular,
        undeclared.group_type || 's' as name_plural,
        false as is_declared,
        undeclared.first_seen_at,
        undeclared.last_seen_at,
        undeclared.events_affected

    from undeclared
    left join free_indexes
        on
            undeclared.project_id = free_indexes.project_id
            and undeclared.undeclared_rank = free_indexes.free_rank

),

final as (

    select * from declared_types
    union all
    select * from discovered_types

)

select * from final
