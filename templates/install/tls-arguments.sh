            --https-port) https_port=${2:?--https-port needs a value} && shift ;;
{% if cookiecutter.https != "acme" %}
            --cert) cert=$(absolute "${2:?--cert needs a file}") && shift ;;
            --key) key=$(absolute "${2:?--key needs a file}") && shift ;;
{% endif %}
