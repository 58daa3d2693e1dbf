{#- Use the custom schema name as given (staging, intermediate, marts, seeds) instead of dbt's
    default `<target_schema>_<custom>`: the published file exposes a schema called `marts`. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
