-- One row per configured project, from projects.yml as written to the lake by the landing step.
with

source as (

    select * from {{ source('lake', 'projects') }}

),

renamed as (

    select
        cast(project_id as bigint) as project_id,
        cast(project_name as {{ dbt.type_string() }}) as project_name,
        cast(timezone as {{ dbt.type_string() }}) as project_timezone

    from source

)

select * from renamed
