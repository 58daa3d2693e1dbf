-- One row per configured project, from projects.yml as written to the lake by the landing step.
with

source as (

    select * from {{ source('lake', 'projects') }}

),

renamed as (

    select
        cast(project_id as bigint) as project_id,
        cast(project_name as varchar) as project_name,
        cast(timezone as varchar) as project_timezone

    from source

)

select * from renamed
