from eidflow.cli import main

main()
