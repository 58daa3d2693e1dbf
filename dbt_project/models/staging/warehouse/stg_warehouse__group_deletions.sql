-- One row per group deletion request (docs/groups.md, "Deleting a group"): the JSON Lines file
-- split into lines and typed. Blank lines are skipped. A request without a `request_id` (written
-- by hand) gets the md5 of its line, so it still has a stable id.
with

source as (

    select * from {{ source('warehouse', 'group_deletions') }}

),

request_lines as (

    select {{ gw_text_lines('source.content') }} as request_line
    from source

),

renamed as (

    select
        -- keys
        coalesce(
            {{ gw_json_text('request_line', 'request_id') }},
            {{ dbt.hash('request_line') }}
        ) as request_id,
        cast({{ gw_json_text('request_line', 'project_id') }} as bigint) as project_id,

        -- attributes: what is deleted
        cast({{ gw_json_text('request_line', 'group_type') }} as {{ dbt.type_string() }}) as group_type,
        cast({{ gw_json_text('request_line', 'group_key') }} as {{ dbt.type_string() }}) as group_key,

        -- attributes: who asked and why
        cast({{ gw_json_text('request_line', 'requested_by') }} as {{ dbt.type_string() }}) as requested_by,
        cast({{ gw_json_text('request_line', 'reason') }} as {{ dbt.type_string() }}) as reason,

        -- timestamps (UTC)
        cast({{ gw_json_text('request_line', 'requested_at') }} as timestamp) as requested_at

    from request_lines
    where trim(request_line) <> ''

)

select * from renamed
