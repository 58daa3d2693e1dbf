-- One row per identified group (project, type, key) with its current properties: the last
-- version of its property history (int_group_property_history, where the fold and the var
-- group_property_mode live).
with

property_history as (

    select * from {{ ref('int_group_property_history') }}

),

final as (

    select
        project_id,
        group_type,
        group_key,
        properties,
        valid_from as properties_updated_at

    from property_history
    where is_current

)

select * from final
