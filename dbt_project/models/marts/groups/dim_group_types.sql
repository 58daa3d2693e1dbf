-- One row per (project, group type) that holds an index 0–4: the group type mapping that
-- `group_0` … `group_4` refer to. Types over the five-type limit are in
-- `fct_group_type_limit_violations` instead.
with

group_types as (

    select * from {{ ref('int_group_types_indexed') }}

),

final as (

    select
        project_id,
        group_type_index,
        group_type,
        name_singular,
        name_plural,
        is_declared,
        first_seen_at,
        last_seen_at,
        events_affected as events_seen

    from group_types
    where group_type_index is not null

)

select * from final
