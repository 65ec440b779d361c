from weft_cli.cli import main

main()
