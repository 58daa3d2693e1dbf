-- One row per landed copy of an event, renamed and typed. No business logic: de-duplication,
-- group attachment and identity resolution happen in intermediate models.
with

source as (

    select * from {{ source('lake', 'events') }}

),

renamed as (

    select
        -- keys
        cast(event_uuid as {{ dbt.type_string() }}) as event_uuid,
        cast(project_id as bigint) as project_id,

        -- attributes
        cast(event as {{ dbt.type_string() }}) as event_name,
        cast(distinct_id as {{ dbt.type_string() }}) as distinct_id,
        cast(properties as {{ dbt.type_string() }}) as properties,
        coalesce(cast(groups as {{ dbt.type_string() }}), '{}') as groups,
        cast(person_set as {{ dbt.type_string() }}) as person_set,
        cast(person_set_once as {{ dbt.type_string() }}) as person_set_once,
        cast(group_type as {{ dbt.type_string() }}) as identified_group_type,
        cast(group_key as {{ dbt.type_string() }}) as identified_group_key,
        cast(group_set as {{ dbt.type_string() }}) as identified_group_set,

        -- timestamps (UTC)
        cast(timestamp as timestamp) as event_at,
        cast(sent_at as timestamp) as sent_at,
        cast(received_at as timestamp) as received_at,

        -- landing metadata
        cast(source_hash as {{ dbt.type_string() }}) as source_hash,
        cast(source_name as {{ dbt.type_string() }}) as source_name,
        cast(source_row as integer) as source_row,
        cast(loaded_at as timestamp) as loaded_at

    from source

)

select * from renamed
